// `mpitune train-tokenizer` (see train_tokenizer_command.hpp).
#include "mpitune/runtime/train_tokenizer_command.hpp"

#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "mpitune/core/config.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/data/documents.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/tokenize/bpe_trainer.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

// The data layer names its config keys; here the user typed flags: say those.
[[noreturn]] void rethrow_as_flag(const ConfigError& e) {
  static const std::pair<const char*, const char*> flags[] = {
      {"data.corpus", "--corpus"},
      {"data.exclude", "--exclude"},
      {"data.extensions", "--extensions"},
      {"data.document_separator", "--document-separator"},
  };
  for (const auto& [key, flag] : flags) {
    if (e.field() != key) continue;
    std::string message = e.what();
    message.erase(0, std::string(key).size() + 2);  // "key: "
    // Mentions of the other keys in the message (hints) are renamed too.
    for (const auto& [k, f] : flags)
      for (size_t at; (at = message.find(k)) != std::string::npos;) message.replace(at, std::string(k).size(), f);
    throw ConfigError(flag, message);
  }
  throw e;
}

std::string count_text(int64_t n) {
  char buf[32];
  if (n < 10000) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  else if (n < 10000000) std::snprintf(buf, sizeof buf, "%.1fK", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  return buf;
}

int run(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description desc(
      "mpitune train-tokenizer --corpus PATH --vocab-size N --out DIR [--exclude LIST]\n"
      "                        [--document-separator S] [--extensions LIST] [--min-frequency N]\n"
      "  Train a byte-level BPE tokenizer (GPT-2's scheme) on a corpus and write tokenizer.json +\n"
      "  tokenizer_config.json into DIR: the 256 bytes, then the merges, then <|endoftext|> (EOS).\n"
      "  The corpus is read as [data] reads it (data.exclude, data.document_separator, ...).\n\noptions");
  desc.add_options()("help,h", "this help")
      ("corpus", po::value<std::string>(), "a text or JSONL file, or a folder of them (as data.corpus)")
      ("exclude", po::value<std::string>()->default_value(""), "files or folders of the corpus folder not read (as data.exclude)")
      ("document-separator", po::value<std::string>()->default_value(""), "as data.document_separator: \"\", blank, line or a line such as %")
      ("extensions", po::value<std::string>()->default_value(""), "as data.extensions")
      ("vocab-size", po::value<int64_t>(), "ids in all: 256 bytes + merges + 1 special token")
      ("min-frequency", po::value<int64_t>()->default_value(2), "a pair seen fewer times is not merged")
      ("out", po::value<std::string>(), "the folder to write (created; its two files are replaced)");
  const po::variables_map vm = parse_command_line(args, desc, nullptr, "train-tokenizer");
  if (vm.count("help")) {
    out << desc << "\n";
    return 0;
  }
  for (const char* required : {"corpus", "vocab-size", "out"})
    if (!vm.count(required))
      throw ConfigError(std::string("--") + required, "is required", "see mpitune train-tokenizer --help");
  const auto start = std::chrono::steady_clock::now();

  DataOptions data;
  data.corpus = vm["corpus"].as<std::string>();
  data.exclude = vm["exclude"].as<std::string>();
  data.document_separator = vm["document-separator"].as<std::string>();
  data.extensions = vm["extensions"].as<std::string>();
  std::vector<Document> docs;
  try {
    docs = read_documents(data.corpus, data, "data.corpus");
  } catch (const ConfigError& e) {
    rethrow_as_flag(e);
  }
  if (docs.empty()) throw ConfigError("--corpus", "'" + data.corpus + "' has no document", "give a corpus with text in it");

  BpeTrainerOptions options;
  options.vocab_size = vm["vocab-size"].as<int64_t>();
  options.min_frequency = vm["min-frequency"].as<int64_t>();
  if (options.min_frequency < 1) throw ConfigError("--min-frequency", "must be at least 1");
  BpeTrainer trainer(options);
  for (const auto& d : docs) {
    if (d.prompted) trainer.add_document(d.prompt);
    trainer.add_document(d.text);
  }
  const TrainedBpe bpe = trainer.train();
  const std::string dir = vm["out"].as<std::string>();
  const auto files = write_bpe_tokenizer(bpe, dir);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  char line[512];
  std::snprintf(line, sizeof line,
                "tokenizer: %zu ids (256 bytes, %zu merges, <|endoftext|> = %d as EOS) from %zu documents, %s words "
                "(%s distinct), in %.2f s: %s\n",
                bpe.vocab.size(), bpe.merges.size(), bpe.eos_id, docs.size(), count_text(trainer.word_count()).c_str(),
                count_text(static_cast<int64_t>(trainer.distinct_words())).c_str(), seconds, files.front().c_str());
  out << line;
  if (bpe.exhausted)
    out << "warning: no pair of symbols occurs " << options.min_frequency << " times any more: the vocabulary has "
        << bpe.vocab.size() << " ids, not --vocab-size " << options.vocab_size << " (give more text or a smaller size)\n";
  return 0;
}

}  // namespace

int train_tokenizer_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    return run(args, out);
  } catch (const ConfigError& e) {
    err << "mpitune: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {  // I/O on the output folder
    err << "mpitune: error: " << e.what() << "\n";
    return 1;
  }
}

int train_tokenizer_command(const std::vector<std::string>& args) {
  return train_tokenizer_command(args, std::cout, std::cerr);
}

}  // namespace mpitune
