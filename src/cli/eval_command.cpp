// mpitune eval (see model_commands.hpp).
#include <ATen/Parallel.h>

#include <boost/program_options.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "mpitune/core/error.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/runtime/model_commands.hpp"
#include "mpitune/train/hf_model.hpp"
#include "mpitune/train/token_batches.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

// Token files of corpora evaluated outside an experiment: $MPITUNE_CACHE, else the XDG cache.
std::string default_cache_dir() {
  if (const char* c = std::getenv("MPITUNE_CACHE"); c && *c) return std::string(c) + "/tokens";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/mpitune/tokens";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/mpitune/tokens";
  return "/tmp/mpitune-tokens";
}

// Errors of the config keys behind the flags, named as the flags: model.path is --model,
// data.tokenizer --tokenizer, data.corpus --corpus, model.seq_len --seq-len.
template <class F>
auto as_flag_errors(F&& f) -> decltype(f()) {
  static const std::pair<const char*, const char*> names[] = {
      {"model.path", "--model"}, {"data.tokenizer", "--tokenizer"}, {"data.corpus", "--corpus"},
      {"data.val_corpus", "--corpus"}, {"model.seq_len", "--seq-len"}};
  try {
    return f();
  } catch (const ConfigError& e) {
    for (const auto& [key, flag] : names)
      if (e.field() == key) {
        const std::string what = e.what();
        throw ConfigError(flag, what.substr(std::string(key).size() + 2));
      }
    throw;
  }
}

}  // namespace

int eval_command(const std::vector<std::string>& args) {
  po::options_description desc(
      "mpitune eval --model DIR --corpus PATH [options]\n"
      "  The mean next-token loss of a model on fixed, evenly spaced windows of a corpus (all of its\n"
      "  documents), computed as a trial's evaluation is. DIR: a Hugging Face model folder, or a PEFT\n"
      "  adapter folder (adapter_config.json) over one. To compare with a trial, give the corpus,\n"
      "  separator, batches, batch size, sequence length and precision of its experiment.\n\noptions");
  desc.add_options()("help,h", "this help")
      ("model,m", po::value<std::string>(), "model or adapter folder")
      ("corpus,c", po::value<std::string>(), "text file or folder, or JSONL")
      ("tokenizer,t", po::value<std::string>()->default_value("auto"), "auto (the model's), bytes, or a folder")
      ("batches", po::value<int>()->default_value(8), "windows = batches x batch-size")
      ("batch-size", po::value<int>()->default_value(16), "rows per batch")
      ("seq-len", po::value<int>()->default_value(256), "context of a window (tokens)")
      ("separator", po::value<std::string>()->default_value(""), "data.document_separator of the corpus")
      ("precision", po::value<std::string>()->default_value("fp32"), "fp32 | bf16")
      ("cache-dir", po::value<std::string>()->default_value(default_cache_dir()), "where token files go")
      ("threads", po::value<int>()->default_value(0), "compute threads (0: all cores)")
      ("json", "print JSON");
  const po::variables_map vm = parse_command_line(args, desc, nullptr, "eval");
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!vm.count("model")) throw ConfigError("--model", "is missing", "give a Hugging Face model folder");
  if (!vm.count("corpus")) throw ConfigError("--corpus", "is missing", "give a text file, folder or JSONL file");
  const int batches = vm["batches"].as<int>(), batch_size = vm["batch-size"].as<int>(), seq_len = vm["seq-len"].as<int>();
  if (batches < 1) throw ConfigError("--batches", "must be at least 1");
  if (batch_size < 1) throw ConfigError("--batch-size", "must be at least 1");
  if (seq_len < 1) throw ConfigError("--seq-len", "must be at least 1");
  const std::string precision = vm["precision"].as<std::string>();
  if (precision != "fp32" && precision != "bf16")
    throw ConfigError("--precision", "'" + precision + "' is not fp32 or bf16", "fp16 needs a GPU");
  if (vm["threads"].as<int>() > 0) at::set_num_threads(vm["threads"].as<int>());

  HfModel m = as_flag_errors([&] {
    return open_hf_model(vm["model"].as<std::string>(), vm["tokenizer"].as<std::string>(), seq_len,
                         parse_precision(precision));
  });
  // Every document evaluates: the corpus is its own validation split.
  DataOptions d;
  d.corpus = d.val_corpus = vm["corpus"].as<std::string>();
  d.tokenizer = vm["tokenizer"].as<std::string>();
  d.document_separator = vm["separator"].as<std::string>();
  const int64_t window = int64_t(seq_len) + 1;
  const PreparedCorpus p = as_flag_errors(
      [&] { return prepare_token_corpus(d, *m.tokenizer, vm["cache-dir"].as<std::string>(), window, true); });
  const auto corpus = TokenCorpus::open(p.path);
  const TokenSplit& split = corpus->validation();
  const int64_t rows = int64_t(batches) * batch_size;
  const std::vector<int64_t> offsets = spaced_windows(split, window, rows);
  const LossSum l = windows_loss(*m.model, split, offsets, 0, rows, window, batch_size);
  if (l.targets == 0) throw ConfigError("--corpus", "the windows hold no target whose loss counts");
  const double loss = l.sum / static_cast<double>(l.targets);

  if (vm.count("json")) {
    nlohmann::json j;
    j["loss"] = loss;
    j["perplexity"] = std::exp(loss);
    j["tokens"] = l.targets;
    j["windows"] = rows;
    j["seq_len"] = seq_len;
    j["corpus_tokens"] = split.size;
    j["documents"] = split.documents;
    j["model"] = vm["model"].as<std::string>();
    j["corpus"] = d.corpus;
    j["tokenizer"] = m.tokenizer->description();
    j["precision"] = precision;
    std::cout << j.dump() << "\n";
  } else {
    std::printf("loss %.6f (perplexity %.3f) over %lld tokens in %lld windows of %d; corpus %lld tokens in %lld "
                "documents; model %s\n",
                loss, std::exp(loss), static_cast<long long>(l.targets), static_cast<long long>(rows), seq_len,
                static_cast<long long>(split.size), static_cast<long long>(split.documents),
                vm["model"].as<std::string>().c_str());
  }
  return 0;
}

}  // namespace mpitune
