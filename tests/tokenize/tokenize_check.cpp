// tokenize_check: mpitune's tokenizers against reference ids, for the reference tests in this
// folder (the scripts run the reference implementation, this tool runs mpitune's and compares).
//
//   tokenize_check --make-inputs FORTUNES_DIR [--extra FILE.jsonl] --out INPUTS.jsonl
//       every line of every fortunes file (not .dat/.u8), then every whole fortune (the text
//       between "%" lines, newlines included), then the extra strings: one JSON string a line.
//   tokenize_check --tokenizer DIR (--inputs INPUTS.jsonl | --lines FILE)
//                  [--expected IDS.txt] [--roundtrip] [--threads N] [--label NAME]
//       encodes every input; with --expected compares with the reference's ids (one line of
//       space-separated ids per input), with --roundtrip checks decode(encode(x)) == x, with
//       --threads N encodes again on N threads sharing the tokenizer and checks the ids are the
//       same. Prints counts and throughput; exit code 1 when any check fails, 2 on bad usage.
//   tokenize_check --train-bpe INPUTS.jsonl --vocab-size N --out DIR
//       trains a byte-level BPE tokenizer (mpitune's BpeTrainer, one document per input) and
//       writes DIR/tokenizer.json + tokenizer_config.json: the trained_bpe reference test.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mpitune/tokenize/bpe_trainer.hpp"
#include "mpitune/tokenize/tokenizer.hpp"

namespace {

using nlohmann::json;

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr, "tokenize_check: %s\n", problem.c_str());
  std::exit(2);
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) usage("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    lines.push_back(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return lines;
}

int make_inputs(const std::string& dir, const std::string& extra, const std::string& out_path) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || e.is_symlink()) continue;
    if (name.size() > 4 && (name.substr(name.size() - 4) == ".dat" || name.substr(name.size() - 3) == ".u8")) continue;
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> lines, fortunes;
  for (const auto& f : files) {
    const std::string text = read_all(f);
    std::string fortune;
    for (const auto& line : split_lines(text)) {
      if (!line.empty()) lines.push_back(line);
      if (line == "%") {
        if (!fortune.empty()) fortunes.push_back(fortune);
        fortune.clear();
      } else {
        fortune += line + "\n";
      }
    }
    if (!fortune.empty()) fortunes.push_back(fortune);
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) usage("cannot write " + out_path);
  for (const auto& l : lines) out << json(l).dump() << "\n";
  for (const auto& f : fortunes) out << json(f).dump() << "\n";
  size_t n_extra = 0;
  if (!extra.empty())
    for (const auto& l : split_lines(read_all(extra)))
      if (!l.empty()) {
        (void)json::parse(l).get<std::string>();  // each extra line must be one JSON string
        out << l << "\n";
        ++n_extra;
      }
  out.close();
  if (!out) usage("write failed: " + out_path);
  std::printf("%zu files: %zu lines, %zu fortunes, %zu extra inputs -> %s\n", files.size(), lines.size(),
              fortunes.size(), n_extra, out_path.c_str());
  return 0;
}

int train_bpe(const std::string& inputs, int64_t vocab_size, const std::string& out_dir) {
  const auto t0 = std::chrono::steady_clock::now();
  mpitune::BpeTrainerOptions o;
  o.vocab_size = vocab_size;
  mpitune::BpeTrainer trainer(o);
  size_t n = 0;
  for (const auto& l : split_lines(read_all(inputs)))
    if (!l.empty()) {
      trainer.add_document(json::parse(l).get<std::string>());
      ++n;
    }
  const mpitune::TrainedBpe bpe = trainer.train();
  mpitune::write_bpe_tokenizer(bpe, out_dir);
  std::printf("trained %zu ids (%zu merges) on %zu inputs in %.2f s -> %s\n", bpe.vocab.size(), bpe.merges.size(), n,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), out_dir.c_str());
  return bpe.vocab.size() == static_cast<size_t>(vocab_size) ? 0 : 1;
}

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

// CPU seconds of the whole process (all threads): with other jobs on the machine, wall time
// says little about how well threads share the tokenizer, CPU time does.
double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

bool non_ascii(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

}  // namespace

int main(int argc, char** argv) {
  std::string tokenizer, inputs, lines_file, expected, label = "tokenizer", make_dir, extra, out, train_inputs;
  bool roundtrip = false;
  int threads = 1;
  int64_t vocab_size = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--tokenizer") tokenizer = value();
    else if (a == "--inputs") inputs = value();
    else if (a == "--lines") lines_file = value();
    else if (a == "--expected") expected = value();
    else if (a == "--label") label = value();
    else if (a == "--make-inputs") make_dir = value();
    else if (a == "--extra") extra = value();
    else if (a == "--out") out = value();
    else if (a == "--roundtrip") roundtrip = true;
    else if (a == "--threads") threads = std::stoi(value());
    else if (a == "--train-bpe") train_inputs = value();
    else if (a == "--vocab-size") vocab_size = std::stoll(value());
    else usage("unknown argument " + a);
  }
  if (!make_dir.empty()) {
    if (out.empty()) usage("--make-inputs needs --out");
    return make_inputs(make_dir, extra, out);
  }
  if (!train_inputs.empty()) {
    if (out.empty() || vocab_size <= 0) usage("--train-bpe needs --vocab-size and --out");
    return train_bpe(train_inputs, vocab_size, out);
  }
  if (tokenizer.empty() || inputs.empty() == lines_file.empty())
    usage("give --tokenizer and one of --inputs / --lines");

  std::vector<std::string> texts;
  if (!inputs.empty()) {
    for (const auto& l : split_lines(read_all(inputs)))
      if (!l.empty()) texts.push_back(json::parse(l).get<std::string>());
  } else {
    texts = split_lines(read_all(lines_file));
  }

  const auto t_load = std::chrono::steady_clock::now();
  std::unique_ptr<mpitune::Tokenizer> tok;
  try {
    tok = mpitune::load_tokenizer(tokenizer, "");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenize_check: %s\n", e.what());
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  std::vector<std::vector<int32_t>> ids(texts.size());
  size_t bytes = 0, tokens = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    ids[i] = tok->encode(texts[i]);
    bytes += texts[i].size();
    tokens += ids[i].size();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu_secs = cpu_seconds() - cpu0;
  const double load_secs = std::chrono::duration<double>(t0 - t_load).count();
  std::printf("%s: %s\n", label.c_str(), tok->description().c_str());
  std::printf("%s: loaded in %.2f s; %zu inputs, %.2f MB, %zu tokens in %.2f s (%.2f CPU s): %.0f tokens/s, %.2f MB/s "
              "(one thread, cold cache)\n",
              label.c_str(), load_secs, texts.size(), bytes / 1e6, tokens, secs, cpu_secs, tokens / secs, bytes / 1e6 / secs);

  bool ok = true;
  if (!expected.empty()) {
    const std::vector<std::string> ref = split_lines(read_all(expected));
    if (ref.size() != texts.size()) {
      std::printf("%s: FAIL: the reference gave %zu id lines for %zu inputs\n", label.c_str(), ref.size(), texts.size());
      return 1;
    }
    size_t same = 0, shown = 0, with_non_ascii = 0, same_non_ascii = 0, multi_line = 0, same_multi_line = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const bool eq = join(ids[i]) == ref[i];
      same += eq;
      if (non_ascii(texts[i])) ++with_non_ascii, same_non_ascii += eq;
      if (texts[i].find('\n') != std::string::npos) ++multi_line, same_multi_line += eq;
      if (!eq && shown++ < 5)
        std::printf("%s: input %zu differs: %s\n  reference: %s\n  mpitune:   %s\n", label.c_str(), i + 1,
                    json(texts[i]).dump().c_str(), ref[i].c_str(), join(ids[i]).c_str());
    }
    std::printf("%s: %zu/%zu inputs have identical ids (with non-ASCII text: %zu/%zu; multi-line: %zu/%zu)\n",
                label.c_str(), same, texts.size(), same_non_ascii, with_non_ascii, same_multi_line, multi_line);
    ok = ok && same == texts.size();
  }
  if (roundtrip) {
    size_t same = 0, shown = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string back = tok->decode(ids[i]);
      const bool eq = back == texts[i];
      same += eq;
      if (!eq && shown++ < 5)
        std::printf("%s: round trip of input %zu differs: %s -> %s\n", label.c_str(), i + 1,
                    json(texts[i]).dump().c_str(), json(back).dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    }
    std::printf("%s: decode(encode(x)) == x for %zu/%zu inputs\n", label.c_str(), same, texts.size());
    ok = ok && same == texts.size();
  }
  if (threads > 1) {
    // A fresh tokenizer, so the threads fill its cache together (the data layer's situation).
    const auto fresh = mpitune::load_tokenizer(tokenizer, "");
    std::vector<std::vector<int32_t>> again(texts.size());
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu1 = cpu_seconds();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (size_t i = t; i < texts.size(); i += threads) again[i] = fresh->encode(texts[i]);
      });
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    const double cpu = cpu_seconds() - cpu1;
    size_t same = 0;
    for (size_t i = 0; i < texts.size(); ++i) same += again[i] == ids[i];
    std::printf("%s: %d threads: %zu/%zu inputs identical to one thread; %.2f s (%.2f CPU s): %.0f tokens/s\n",
                label.c_str(), threads, same, texts.size(), s, cpu, tokens / s);
    ok = ok && same == texts.size();
  }
  std::printf("%s: %s\n", label.c_str(), ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
