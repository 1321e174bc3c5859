// load_tokenizer: bytes and auto, the order in which a folder's files are tried, and every way a
// folder or file can be wrong (each a ConfigError on data.tokenizer that says what was found).
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"
#include "tokenizer_files.hpp"

namespace mpitune {
namespace {

using testing::json;
using testing::MiniBpe;
using testing::TempDir;
using testing::write_file;

// The message of the ConfigError that loading `dir` throws ("" when it loads).
std::string error_of(const std::string& dir) {
  try {
    load_tokenizer(dir, "");
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.tokenizer");
    return e.what();
  }
  return "";
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// GPT-2-style vocab.json + merges.txt with the 256 byte characters and "ab".
void write_vocab_merges(const TempDir& dir, const std::string& merges = "#version: 0.2\na b\n") {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[testing::byte_char(static_cast<unsigned char>(b))] = b;
  vocab["ab"] = 256;
  write_file(dir.file("vocab.json"), vocab.dump());
  write_file(dir.file("merges.txt"), merges);
}

json wordpiece_json() {
  return {{"model", {{"type", "WordPiece"}, {"vocab", {{"[UNK]", 0}}}}}, {"pre_tokenizer", {{"type", "BertPreTokenizer"}}}};
}

TEST(LoadTokenizer, BytesAndAuto) {
  EXPECT_EQ(load_tokenizer("bytes", "")->kind(), "bytes");
  EXPECT_EQ(load_tokenizer("bytes", "/some/model")->kind(), "bytes");
  EXPECT_EQ(load_tokenizer("auto", "")->kind(), "bytes");  // a scratch model
  TempDir dir;
  MiniBpe().write(dir);
  EXPECT_EQ(load_tokenizer("auto", dir.path())->kind(), "bpe");
  EXPECT_EQ(load_tokenizer(dir.path(), "/elsewhere")->kind(), "bpe");
}

TEST(LoadTokenizer, ByteLevelTokenizerJsonComesFirst) {
  TempDir dir;
  MiniBpe().write(dir);
  write_vocab_merges(dir);
  EXPECT_TRUE(has(load_tokenizer(dir.path(), "")->description(), "tokenizer.json in"));
}

TEST(LoadTokenizer, OtherTokenizerJsonFallsThroughToVocabMerges) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), wordpiece_json().dump());
  write_vocab_merges(dir);
  const auto t = load_tokenizer(dir.path(), "");
  EXPECT_TRUE(has(t->description(), "vocab.json + merges.txt in " + dir.path())) << t->description();
  EXPECT_EQ(t->encode("abc"), (std::vector<int32_t>{256, 99}));
}

TEST(LoadTokenizer, FolderErrors) {
  TempDir dir;
  EXPECT_TRUE(has(error_of(dir.file("missing")), "does not exist"));
  write_file(dir.file("a.txt"), "x");
  EXPECT_TRUE(has(error_of(dir.file("a.txt")), "is a file"));
  const std::string empty = error_of(dir.path());
  EXPECT_TRUE(has(empty, dir.path())) << empty;
  EXPECT_TRUE(has(empty, "no tokenizer files")) << empty;
  EXPECT_TRUE(has(empty, "supported: tokenizer.json with a byte-level BPE")) << empty;
  EXPECT_TRUE(has(error_of(""), "empty"));
}

TEST(LoadTokenizer, AFileThatFailsToReadIsAConfigErrorNamingIt) {
  TempDir dir;
  // /proc/self/mem is a regular file that opens and cannot be read at offset 0 (EIO).
  ASSERT_EQ(::symlink("/proc/self/mem", dir.file("tokenizer.json").c_str()), 0);
  EXPECT_EQ(error_of(dir.path()),
            "data.tokenizer: " + dir.file("tokenizer.json") + ": read failed (" + std::strerror(EIO) + ")");
}

TEST(LoadTokenizer, UnsupportedTokenizerJsonSaysWhatItIs) {
  TempDir wp;
  write_file(wp.file("tokenizer.json"), wordpiece_json().dump());
  const std::string e = error_of(wp.path());
  EXPECT_TRUE(has(e, "tokenizer.json with a WordPiece model")) << e;
  EXPECT_TRUE(has(e, "tokenizer.model (SentencePiece")) << e;

  TempDir meta;  // TinyLlama-style: a BPE model behind Metaspace, meant to go with tokenizer.model
  MiniBpe b;
  b.pre_tokenizer = {{"type", "Metaspace"}, {"replacement", "\xE2\x96\x81"}};
  b.write(meta);
  const std::string m = error_of(meta.path());
  EXPECT_TRUE(has(m, "BPE model without byte-level pre-tokenization (pre_tokenizer Metaspace")) << m;
}

TEST(LoadTokenizer, MalformedTokenizerJson) {
  TempDir bad_json;
  write_file(bad_json.file("tokenizer.json"), "{\"model\": ");
  EXPECT_TRUE(has(error_of(bad_json.path()), "not valid JSON"));

  TempDir bad_merge;
  MiniBpe b;
  b.merges = {{"a", "zz"}};
  b.write(bad_merge);
  EXPECT_TRUE(has(error_of(bad_merge.path()), "'zz', which is not in the vocabulary"));

  TempDir whitespace;
  b = MiniBpe();
  b.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({{{"type", "WhitespaceSplit"}}, testing::byte_level_pre_tokenizer()})}};
  b.write(whitespace);
  EXPECT_TRUE(has(error_of(whitespace.path()), "pre-tokenizer 'WhitespaceSplit' is not supported"));

  TempDir lowercase;
  b = MiniBpe();
  b.normalizer = {{"type", "Lowercase"}};
  b.write(lowercase);
  EXPECT_TRUE(has(error_of(lowercase.path()), "normalizer 'Lowercase' is not supported"));

  TempDir dropout;
  b = MiniBpe();
  b.model_options = {{"dropout", 0.1}};
  b.write(dropout);
  EXPECT_TRUE(has(error_of(dropout.path()), "dropout"));

  TempDir nested;
  b = MiniBpe();
  b.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({{{"type", "Split"}, {"pattern", {{"Regex", "[^a[^b]]"}}}, {"behavior", "Isolated"}},
                                                    testing::byte_level_pre_tokenizer()})}};
  b.write(nested);
  EXPECT_TRUE(has(error_of(nested.path()), "negated class nested"));

  TempDir behavior;
  b = MiniBpe();
  b.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({{{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Sideways"}},
                                                    testing::byte_level_pre_tokenizer()})}};
  b.write(behavior);
  EXPECT_TRUE(has(error_of(behavior.path()), "Split behavior 'Sideways'"));
}

TEST(LoadTokenizer, VocabMergesProblems) {
  TempDir only_vocab;
  write_vocab_merges(only_vocab);
  std::remove(only_vocab.file("merges.txt").c_str());
  EXPECT_TRUE(has(error_of(only_vocab.path()), "vocab.json without merges.txt"));

  TempDir bad_line;
  write_vocab_merges(bad_line, "#version: 0.2\na b\nabc\n");
  EXPECT_TRUE(has(error_of(bad_line.path()), "line 3 ('abc')"));

  TempDir bad_vocab;
  write_file(bad_vocab.file("vocab.json"), "[1, 2]");
  write_file(bad_vocab.file("merges.txt"), "");
  EXPECT_TRUE(has(error_of(bad_vocab.path()), "vocab.json: not a JSON object"));
}

TEST(LoadTokenizer, BrokenSentencePieceModel) {
  TempDir dir;
  write_file(dir.file("tokenizer.model"), "this is not a protobuf");
  const std::string e = error_of(dir.path());
#ifdef MPITUNE_HAVE_SENTENCEPIECE
  EXPECT_TRUE(has(e, "not a SentencePiece model")) << e;
#else
  EXPECT_TRUE(has(e, "no SentencePiece")) << e;
#endif
}

}  // namespace
}  // namespace mpitune
