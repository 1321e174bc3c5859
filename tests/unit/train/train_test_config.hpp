// Experiment configs for the train-layer tests: a tiny GPT on a given corpus, built through the
// INI parser (with_hparams re-reads the INI text, so configs must come from it).
#pragma once

#include <cstdlib>

#include <string>

#include "mpitune/core/config.hpp"
#include "mpitune/core/ini.hpp"

namespace mpitune::testing {

// The default corpus of the product, when the Debian package fortunes is installed.
// The default corpus (Debian's fortunes); MPITUNE_TEST_CORPUS points elsewhere, e.g. on a GPU
// machine without the package (mpi_scripts/gpu_prepare.sh carries a copy there).
inline const char* const kFortunes = [] {
  const char* env = std::getenv("MPITUNE_TEST_CORPUS");
  return env && *env ? env : "/usr/share/games/fortunes";
}();

// A tiny model (1 block, d_model 32, seq_len 32, batch 8) on `corpus` (every line a document, so
// one text file splits into training and validation documents); `extra` is more INI text, whose
// keys replace the defaults given here (later lines win through IniFile::set). Token files go to
// a cache under the system temp folder.
// Token files of a corpus in a test's temp folder go next to it (and go with it); those of a
// system corpus (fortunes) to one cache under the temp folder, shared by the tests.
inline std::string token_cache_for_tests(const std::string& corpus) {
  const char* env = std::getenv("TMPDIR");
  const std::string tmp = env && *env ? env : "/tmp";
  if (corpus.rfind(tmp + "/", 0) == 0) return corpus.substr(0, corpus.find_last_of('/')) + "/.token-cache";
  return tmp + "/mpitune-test-token-cache";
}

inline ExperimentConfig tiny_gpt_config(const std::string& corpus, const std::string& extra = "") {
  IniFile ini = IniFile::parse(
      "[experiment]\nseed = 1\n"
      "[space]\nlr = loguniform(1e-4, 1e-2)\n"
      "[model]\nn_layer = 1\nn_head = 2\nd_model = 32\nseq_len = 32\n"
      "[data]\nval_fraction = 0.1\neval_batches = 2\ndocument_separator = line\n"
      "[train]\ndevice = cpu\nbatch_size = 8\nlr = 0.01\nwarmup_steps = 5\nweight_decay = 0.1\n");
  ini.set("data", "corpus", corpus);
  ini.set("data", "cache_dir", token_cache_for_tests(corpus));
  const IniFile more = IniFile::parse(extra, "test");
  for (const auto& sec : more.sections())
    for (const auto& e : sec.entries) ini.set(sec.name, e.key, e.value);
  return parse_config(ini);
}

// English-like text with structure a tiny model learns in a few dozen steps: sentences drawn
// from a small grammar with a fixed generator.
inline std::string toy_text(size_t bytes) {
  static const char* subjects[] = {"the cat", "a dog", "my friend", "the old man", "she", "he"};
  static const char* verbs[] = {"sees", "likes", "walks to", "reads about", "finds", "wants"};
  static const char* objects[] = {"the park", "a book", "the river", "some bread", "the moon", "a tree"};
  std::string out;
  uint64_t x = 12345;
  auto next = [&x](int n) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((x >> 33) % static_cast<uint64_t>(n));
  };
  while (out.size() < bytes) {
    out += subjects[next(6)];
    out += ' ';
    out += verbs[next(6)];
    out += ' ';
    out += objects[next(6)];
    out += ". ";
    if (next(4) == 0) out += '\n';
  }
  out.resize(bytes);
  return out;
}

}  // namespace mpitune::testing
