// BPE training: merge order worked out by hand on tiny corpora, tie-breaking, what the encoder
// does with the learned merges (the written folder loaded by load_tokenizer), the exact
// vocabulary size, EOS, determinism (also over document order) and round trips on fortunes text.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/bpe_trainer.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"
#include "tokenizer_files.hpp"

namespace mpitune {
namespace {

using testing::byte_char;
using Ids = std::vector<int32_t>;
using Merges = std::vector<std::pair<std::string, std::string>>;

// Adds `text` as `times` documents.
void add(BpeTrainer& t, const std::string& text, int times) {
  for (int i = 0; i < times; ++i) t.add_document(text);
}

TrainedBpe train(const std::vector<std::pair<std::string, int>>& docs, int64_t vocab_size, int64_t min_frequency = 2) {
  BpeTrainerOptions o;
  o.vocab_size = vocab_size;
  o.min_frequency = min_frequency;
  BpeTrainer t(o);
  for (const auto& [text, times] : docs) add(t, text, times);
  return t.train();
}

std::unique_ptr<Tokenizer> load(const TrainedBpe& bpe, const testing::TempDir& dir) {
  write_bpe_tokenizer(bpe, dir.path());
  return load_tokenizer(dir.path(), "");
}

// Words abc x4, bcd x3, cd x2 (one document each: no spaces, so one word each).
// Pairs: (b,c) 4+3 = 7, (a,b) 4, (c,d) 3+2 = 5 -> merge "bc" (256).
// Then (a,bc) 4, (bc,d) 3, (c,d) 2 -> "abc" (257), then "bcd" (258), then "cd" (259); nothing
// else occurs twice, so training stops with 256 + 4 + 1 special = 261 ids.
TEST(BpeTrainer, MergesTheMostFrequentPairFirstWorkedByHand) {
  const TrainedBpe bpe = train({{"abc", 4}, {"bcd", 3}, {"cd", 2}}, 1000);
  EXPECT_EQ(bpe.merges, (Merges{{"b", "c"}, {"a", "bc"}, {"bc", "d"}, {"c", "d"}}));
  ASSERT_EQ(bpe.vocab.size(), 261u);
  EXPECT_EQ(bpe.vocab[256], "bc");
  EXPECT_EQ(bpe.vocab[257], "abc");
  EXPECT_EQ(bpe.vocab[258], "bcd");
  EXPECT_EQ(bpe.vocab[259], "cd");
  EXPECT_EQ(bpe.vocab[260], "<|endoftext|>");
  EXPECT_EQ(bpe.eos_id, 260);
  EXPECT_TRUE(bpe.exhausted);
  // The 256 byte symbols first, id = byte value, in the byte-level alphabet.
  for (int b = 0; b < 256; ++b) EXPECT_EQ(bpe.vocab[b], byte_char(static_cast<unsigned char>(b))) << b;
}

TEST(BpeTrainer, TheLoadedTokenizerAppliesTheLearnedMergesInRankOrder) {
  const TrainedBpe bpe = train({{"abc", 4}, {"bcd", 3}, {"cd", 2}}, 1000);
  testing::TempDir dir;
  const auto tok = load(bpe, dir);
  EXPECT_EQ(tok->kind(), "bpe");
  EXPECT_EQ(tok->vocab_size(), 261);
  EXPECT_EQ(tok->eos_id(), 260);
  EXPECT_EQ(tok->bos_id(), -1);
  EXPECT_FALSE(tok->add_bos());
  EXPECT_EQ(tok->encode("abc"), (Ids{257}));
  EXPECT_EQ(tok->encode("bcd"), (Ids{258}));
  EXPECT_EQ(tok->encode("cd"), (Ids{259}));
  // a b c d: (b,c) has rank 0 -> a bc d; then (a,bc) rank 1 beats (bc,d) rank 2 -> abc d.
  EXPECT_EQ(tok->encode("abcd"), (Ids{257, 'd'}));
  EXPECT_EQ(tok->encode("bcbc"), (Ids{256, 256}));
  // A space starts a new word ('Ġ' = 32 never merged here); the special token is one id.
  EXPECT_EQ(tok->encode("abc cd"), (Ids{257, ' ', 259}));
  EXPECT_EQ(tok->encode("cd<|endoftext|>abc"), (Ids{259, 260, 257}));
  EXPECT_EQ(tok->decode({257, ' ', 259, 260}), "abc cd<|endoftext|>");
}

TEST(BpeTrainer, OverlappingPairsCountEveryAdjacencyAndMergeLeftToRight) {
  // "aaa" x2: (a,a) occurs twice per word -> 4; merged left to right: aa a; then (aa,a) 2 -> aaa.
  const TrainedBpe bpe = train({{"aaa", 2}}, 1000);
  EXPECT_EQ(bpe.merges, (Merges{{"a", "a"}, {"aa", "a"}}));
  testing::TempDir dir;
  const auto tok = load(bpe, dir);
  // a a a a a: (a,a) leftmost first -> aa aa a; (aa,aa) is no merge, (aa,a) is -> aa aaa.
  EXPECT_EQ(tok->encode("aaaaa"), (Ids{256, 257}));
  EXPECT_EQ(tok->encode("aaaa"), (Ids{256, 256}));
}

TEST(BpeTrainer, TiesGoToTheSmallestPairOfIds) {
  // (c,d) and (a,b) both occur 3 times: (97,98) < (99,100), whatever the documents' order.
  EXPECT_EQ(train({{"cd", 3}, {"ab", 3}}, 258).merges, (Merges{{"a", "b"}}));
  // (b,a) = (98,97) < (c,d).
  EXPECT_EQ(train({{"cd", 3}, {"ba", 3}}, 258).merges, (Merges{{"b", "a"}}));
  // A merged symbol has a larger id than every byte: (x, y) wins over (ab, c) at equal counts.
  EXPECT_EQ(train({{"ab", 5}, {"abc", 2}, {"xy", 2}}, 1000).merges, (Merges{{"a", "b"}, {"x", "y"}, {"ab", "c"}}));
}

TEST(BpeTrainer, MinFrequencyStopsMerges) {
  EXPECT_TRUE(train({{"ab", 1}}, 1000).merges.empty());
  EXPECT_EQ(train({{"ab", 1}}, 1000, 1).merges, (Merges{{"a", "b"}}));
}

TEST(BpeTrainer, SpecialTokensWrittenInTheTextAreNotLearned) {
  // Without the cut, "<|" and "|>" would occur 3 times each and be merged.
  const TrainedBpe bpe = train({{"<|endoftext|>xy<|endoftext|>", 3}}, 1000);
  EXPECT_EQ(bpe.merges, (Merges{{"x", "y"}}));
}

TEST(BpeTrainer, VocabSizeTooSmallIsAConfigError) {
  BpeTrainerOptions o;
  o.vocab_size = 256;
  try {
    BpeTrainer t(o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "--vocab-size");
    EXPECT_NE(std::string(e.what()).find("at least 257"), std::string::npos) << e.what();
  }
  o.vocab_size = 257;
  EXPECT_NO_THROW(BpeTrainer{o});
}

TEST(BpeTrainer, TokenizerFilesSayBpeByteLevelAndEos) {
  const TrainedBpe bpe = train({{"abc", 4}, {"bcd", 3}, {"cd", 2}}, 1000);
  const auto j = testing::json::parse(tokenizer_json_text(bpe));
  EXPECT_EQ(j["model"]["type"], "BPE");
  EXPECT_EQ(j["model"]["vocab"].size(), 261u);
  EXPECT_EQ(j["model"]["vocab"]["abc"], 257);
  EXPECT_EQ(j["model"]["merges"][1], "a bc");
  EXPECT_EQ(j["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(j["pre_tokenizer"]["add_prefix_space"], false);
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  ASSERT_EQ(j["added_tokens"].size(), 1u);
  EXPECT_EQ(j["added_tokens"][0]["id"], 260);
  EXPECT_EQ(j["added_tokens"][0]["content"], "<|endoftext|>");
  EXPECT_EQ(j["added_tokens"][0]["special"], true);
  const auto c = testing::json::parse(tokenizer_config_json_text(bpe));
  EXPECT_EQ(c["eos_token"], "<|endoftext|>");
  EXPECT_TRUE(c["bos_token"].is_null());
  EXPECT_EQ(c["add_bos_token"], false);
}

// ---- on fortunes text ----

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> fortunes_of(const std::string& text) {
  std::vector<std::string> docs;
  std::string cur;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line == "%") {
      docs.push_back(cur);
      cur.clear();
    } else {
      cur += line + "\n";
    }
  }
  if (!cur.empty()) docs.push_back(cur);
  return docs;
}

class FortunesBpe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    train_text_ = read_text("/usr/share/games/fortunes/fortunes");
    other_text_ = read_text("/usr/share/games/fortunes/food");
  }
  static TrainedBpe train_on(const std::vector<std::string>& docs, int64_t vocab_size) {
    BpeTrainerOptions o;
    o.vocab_size = vocab_size;
    BpeTrainer t(o);
    for (const auto& d : docs) t.add_document(d);
    return t.train();
  }
  static std::string train_text_, other_text_;
};
std::string FortunesBpe::train_text_, FortunesBpe::other_text_;

TEST_F(FortunesBpe, ExactVocabSizeEosLastAndRoundTrips) {
  ASSERT_GT(train_text_.size(), 10000u) << "the fortunes package (/usr/share/games/fortunes) is needed";
  ASSERT_GT(other_text_.size(), 10000u);
  const TrainedBpe bpe = train_on(fortunes_of(train_text_), 700);
  EXPECT_FALSE(bpe.exhausted);
  EXPECT_EQ(bpe.vocab.size(), 700u);
  EXPECT_GE(bpe.merges.size(), 700u - 257u);  // more when two merges make one string
  EXPECT_EQ(bpe.eos_id, 699);
  testing::TempDir dir;
  const auto tok = load(bpe, dir);
  EXPECT_EQ(tok->vocab_size(), 700);
  EXPECT_EQ(tok->eos_id(), 699);
  EXPECT_EQ(tok->encode("<|endoftext|>"), (Ids{699}));
  // Every line of the training file and of one it never saw comes back byte for byte, and the
  // merges compress the text (a tokenizer that only split bytes would fail this).
  size_t lines = 0, bytes = 0, tokens = 0;
  for (const std::string* text : {&train_text_, &other_text_}) {
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      const Ids ids = tok->encode(line);
      ASSERT_EQ(tok->decode(ids), line);
      for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < 699) << line;
      ++lines;
      bytes += line.size();
      tokens += ids.size();
    }
  }
  EXPECT_GT(lines, 1000u);
  EXPECT_LT(static_cast<double>(tokens), 0.5 * static_cast<double>(bytes));
  // Invalid UTF-8 is repaired as the encoder does; training on it does not break anything.
  BpeTrainerOptions o;
  o.vocab_size = 300;
  BpeTrainer bad(o);
  bad.add_document(std::string("caf\xe9 caf\xe9 caf\xe9\n"));
  EXPECT_NO_THROW(bad.train());
}

TEST_F(FortunesBpe, DeterministicFilesWhateverTheDocumentOrder) {
  std::vector<std::string> docs = fortunes_of(train_text_);
  ASSERT_GT(docs.size(), 100u);
  const TrainedBpe first = train_on(docs, 500);
  const TrainedBpe again = train_on(docs, 500);
  std::reverse(docs.begin(), docs.end());
  const TrainedBpe reversed = train_on(docs, 500);
  testing::TempDir a, b, c;
  write_bpe_tokenizer(first, a.path());
  write_bpe_tokenizer(again, b.path());
  write_bpe_tokenizer(reversed, c.path());
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    const std::string bytes = testing::read_file(a.file(f));
    EXPECT_FALSE(bytes.empty());
    EXPECT_EQ(testing::read_file(b.file(f)), bytes) << f;
    EXPECT_EQ(testing::read_file(c.file(f)), bytes) << f;
  }
}

}  // namespace
}  // namespace mpitune
