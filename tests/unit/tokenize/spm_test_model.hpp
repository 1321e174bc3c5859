// Small SentencePiece models for unit tests, made by Debian's spm_train (package sentencepiece),
// and their reference ids from spm_encode: the tests compare mpitune's ids with the tools', so no
// expected id is written down by hand. Used by tests/unit/tokenize and tests/unit/train.
#pragma once

#include <dlfcn.h>

#include <iostream>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace mpitune::testing {

// Runs a shell command; fails the test (and returns false) when it does not exit 0.
inline bool run_tool(const std::string& command) {
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << command << "\n(spm_train and spm_encode come with Debian's package sentencepiece)";
  return status == 0;
}

inline std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// 400 lines of 8 words drawn (fixed LCG) from a small vocabulary: enough for a model to learn
// merges, small enough that spm_train takes a few milliseconds.
inline std::string spm_training_text() {
  static const char* const kWords[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "tokenizer",
                                       "model", "sentence", "piece", "torch", "tensor", "library", "module",
                                       "loads", "encodes", "decodes", "a", "of", "to", "in", "and", "is", "42,"};
  const size_t n = sizeof kWords / sizeof kWords[0];
  uint64_t state = 12345;
  std::string text;
  for (int line = 0; line < 400; ++line) {
    for (int w = 0; w < 8; ++w) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      text += (w ? " " : "") + std::string(kWords[(state >> 33) % n]);
    }
    text += "\n";
  }
  return text;
}

// Lines to encode: seen words, unseen words and characters the model never saw (byte fallback),
// odd spacing, an empty line's neighbour, "<s>" written as text.
inline std::vector<std::string> spm_probe_lines() {
  return {"the quick brown fox jumps over the lazy dog",
          "tokenizer model loads 42, encodes and decodes",
          "unseen words: zebra, quixotic, xylophone",
          "caf\xC3\xA9 na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E stra\xC3\x9F" "e",
          "  two  spaces   and\ttab",
          "<s> is text here </s>"};
}

// Trains dir/tokenizer.model (and dir/tokenizer.vocab). type: "bpe" or "unigram"; identity
// normalization and byte fallback, so every probe line round-trips.
inline bool train_spm_model(const TempDir& dir, const std::string& type) {
  write_file(dir.file("train.txt"), spm_training_text());
  return run_tool("spm_train --input=" + shell_quoted(dir.file("train.txt")) + " --model_prefix=" +
                  shell_quoted(dir.file("tokenizer")) + " --model_type=" + type +
                  " --vocab_size=300 --hard_vocab_limit=false --character_coverage=1.0 --byte_fallback=true"
                  " --normalization_rule_name=identity --remove_extra_whitespaces=false --minloglevel=2");
}

// spm_encode's ids of each line, for the model in `dir`.
inline std::vector<std::vector<int32_t>> spm_encode_ids(const TempDir& dir, const std::vector<std::string>& lines) {
  std::string input;
  for (const auto& l : lines) input += l + "\n";
  write_file(dir.file("probe.txt"), input);
  std::vector<std::vector<int32_t>> out;
  if (!run_tool("spm_encode --model=" + shell_quoted(dir.file("tokenizer.model")) + " --output_format=id < " +
                shell_quoted(dir.file("probe.txt")) + " > " + shell_quoted(dir.file("probe_ids.txt"))))
    return out;
  std::istringstream text(read_file(dir.file("probe_ids.txt")));
  std::string line;
  while (std::getline(text, line)) {
    std::istringstream ids(line);
    std::vector<int32_t> row;
    for (int32_t id; ids >> id;) row.push_back(id);
    out.push_back(row);
  }
  EXPECT_EQ(out.size(), lines.size());
  return out;
}

// The number of pieces, counted from the .vocab file spm_train wrote (one piece a line).
inline int64_t spm_vocab_lines(const TempDir& dir) {
  const std::string vocab = read_file(dir.file("tokenizer.vocab"));
  int64_t n = 0;
  for (char c : vocab) n += c == '\n';
  return n;
}

// `model` with a self-test sample appended whose expected pieces are wrong (ModelProto field 4,
// SelfTestData { Sample { input = 1, expected = 2 } }): loading it makes SentencePiece log the
// failure to std::cerr and refuse the model, the path that crashed under RTLD_DEEPBIND before
// the module repaired the standard streams (src/tokenize/sentencepiece/module/deepbind_streams.hpp).
inline std::string with_failing_self_test(const std::string& model) {
  auto field = [](int number, const std::string& bytes) {  // length-delimited, lengths < 128
    return std::string(1, static_cast<char>(number << 3 | 2)) + static_cast<char>(bytes.size()) + bytes;
  };
  const std::string sample = field(1, "the fox") + field(2, "\xE2\x96\x81not \xE2\x96\x81these \xE2\x96\x81pieces");
  return model + field(4, field(1, sample));
}

// The precondition of the failed-self-test tests: this executable has its own copy of
// std::cerr (it writes to it), so libstdc++'s definition, the one RTLD_DEEPBIND code binds to,
// was never constructed: SentencePiece's log line crashed there before the stream repair
// (src/tokenize/sentencepiece/module/deepbind_streams.hpp).
inline void expect_own_copy_of_cerr() {
  std::cerr << "";
  void* libstdcxx = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(libstdcxx, nullptr);
  ASSERT_NE(dlsym(libstdcxx, "_ZSt4cerr"), static_cast<void*>(&std::cerr));
  dlclose(libstdcxx);
}

}  // namespace mpitune::testing
