// The BPE model: merges applied by rank (not by position), leftmost first among equal ranks,
// ignore_merges, unk and byte fallback, continuing_subword_prefix, the cache, and the merge
// errors. Several vectors are the tokenizers library's own unit tests (models/bpe/model.rs).
#include <gtest/gtest.h>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/bpe_model.hpp"

namespace mpitune {
namespace {

using Ids = std::vector<int32_t>;

Ids encode(const BpeModel& m, const std::string& word) {
  Ids out;
  m.encode_word(word, out);
  return out;
}

const BpeModel::Vocab kAbc = {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}};

TEST(BpeModel, MergesApplyByRank) {
  // "b c" ranks first: a|bc, and no merge joins a with bc.
  const BpeModel first_bc(kAbc, {{"b", "c"}, {"a", "b"}, {"ab", "c"}}, {}, "test");
  EXPECT_EQ(encode(first_bc, "abc"), (Ids{0, 4}));
  // "a b" ranks first: ab|c, then ab c.
  const BpeModel first_ab(kAbc, {{"a", "b"}, {"b", "c"}, {"ab", "c"}}, {}, "test");
  EXPECT_EQ(encode(first_ab, "abc"), (Ids{5}));
  EXPECT_EQ(encode(first_ab, "cab"), (Ids{2, 3}));
}

TEST(BpeModel, EqualRanksMergeLeftmostFirst) {
  const BpeModel m({{"a", 0}, {"aa", 1}}, {{"a", "a"}}, {}, "test");
  EXPECT_EQ(encode(m, "aaa"), (Ids{1, 0}));
  EXPECT_EQ(encode(m, "aaaa"), (Ids{1, 1}));
  EXPECT_EQ(encode(m, "a"), (Ids{0}));
  EXPECT_EQ(encode(m, ""), (Ids{}));
}

TEST(BpeModel, LibraryVectorUnrelated) {
  const BpeModel::Vocab vocab = {{"u", 0},   {"n", 1},    {"r", 2},    {"e", 3},    {"l", 4},     {"a", 5},
                                 {"t", 6},   {"d", 7},    {"re", 8},   {"at", 9},   {"ed", 10},   {"un", 11},
                                 {"ated", 12}, {"rel", 13}, {"related", 14}, {"unrelated", 15}};
  const BpeModel m(vocab, {{"r", "e"}, {"a", "t"}, {"e", "d"}, {"u", "n"}, {"at", "ed"}, {"re", "l"}, {"rel", "ated"}, {"un", "related"}},
                   {}, "test");
  EXPECT_EQ(encode(m, "unrelated"), (Ids{15}));
  EXPECT_EQ(encode(m, "related"), (Ids{14}));
  EXPECT_EQ(encode(m, "dated"), (Ids{7, 12}));
}

TEST(BpeModel, IgnoreMergesTakesWholeWordsFromTheVocabulary) {
  const BpeModel::Vocab vocab = {{"a", 0}, {"b", 1}, {"c", 2}, {"abc", 3}};
  BpeOptions o;
  o.ignore_merges = true;
  EXPECT_EQ(encode(BpeModel(vocab, {}, o, "test"), "abc"), (Ids{3}));
  EXPECT_EQ(encode(BpeModel(vocab, {}, o, "test"), "abca"), (Ids{0, 1, 2, 0}));
  EXPECT_EQ(encode(BpeModel(vocab, {}, {}, "test"), "abc"), (Ids{0, 1, 2}));
}

TEST(BpeModel, UnknownCharactersUnkFusedOrDropped) {
  const BpeModel::Vocab vocab = {{"<unk>", 0}, {"a", 1}, {"b", 2}};
  BpeOptions unk;
  unk.unk_token = "<unk>";
  EXPECT_EQ(encode(BpeModel(vocab, {}, unk, "test"), "accb"), (Ids{1, 0, 0, 2}));
  BpeOptions fused = unk;
  fused.fuse_unk = true;
  EXPECT_EQ(encode(BpeModel(vocab, {}, fused, "test"), "accb"), (Ids{1, 0, 2}));
  EXPECT_EQ(encode(BpeModel(vocab, {}, fused, "test"), "cc"), (Ids{0}));
  // Without an unk token the library drops the character.
  EXPECT_EQ(encode(BpeModel(vocab, {}, {}, "test"), "accb"), (Ids{1, 2}));
}

TEST(BpeModel, ByteFallback) {
  BpeOptions o;
  o.unk_token = "<unk>";
  o.byte_fallback = true;
  const BpeModel m({{"<unk>", 0}, {"<0x61>", 1}}, {}, o, "test");
  EXPECT_EQ(encode(m, "a"), (Ids{1}));
  EXPECT_EQ(encode(m, "c"), (Ids{0}));  // <0x63> is missing: unk
  // A multi-byte character becomes all its bytes when every <0xXX> exists.
  BpeModel::Vocab v = {{"<unk>", 0}, {"<0xC3>", 1}, {"<0xA9>", 2}};
  EXPECT_EQ(encode(BpeModel(v, {}, o, "test"), "\xC3\xA9"), (Ids{1, 2}));
}

TEST(BpeModel, ContinuingSubwordPrefix) {
  BpeOptions o;
  o.continuing_subword_prefix = "##";
  o.unk_token = "[UNK]";
  const BpeModel m({{"a", 0}, {"##b", 1}, {"##c", 2}, {"ab", 3}, {"abc", 4}, {"[UNK]", 5}}, {{"a", "##b"}, {"ab", "##c"}}, o, "test");
  EXPECT_EQ(encode(m, "ab"), (Ids{3}));
  EXPECT_EQ(encode(m, "abc"), (Ids{4}));
  EXPECT_EQ(encode(m, "b"), (Ids{5}));  // a first character has no prefix: "b" is unknown
}

TEST(BpeModel, CacheAndLongWordsGiveTheSameIds) {
  const BpeModel m(kAbc, {{"a", "b"}, {"b", "c"}, {"ab", "c"}}, {}, "test");
  EXPECT_EQ(encode(m, "abcab"), (Ids{5, 3}));
  EXPECT_EQ(encode(m, "abcab"), (Ids{5, 3}));  // from the cache
  Ids direct;
  m.encode_word_uncached("abcab", direct);
  EXPECT_EQ(direct, (Ids{5, 3}));
  std::string longword;
  for (int i = 0; i < 200; ++i) longword += "abc";  // 600 bytes: never cached
  EXPECT_EQ(encode(m, longword), Ids(200, 5));
}

TEST(BpeModel, IdsAndSize) {
  const BpeModel m({{"x", 3}, {"y", 9}}, {}, {}, "test");
  EXPECT_EQ(m.id_end(), 10);
  EXPECT_EQ(m.id_of("y"), 9);
  EXPECT_EQ(m.id_of("z"), -1);
  ASSERT_NE(m.token_of(3), nullptr);
  EXPECT_EQ(*m.token_of(3), "x");
  EXPECT_EQ(m.token_of(4), nullptr);
  EXPECT_EQ(m.token_of(10), nullptr);
}

TEST(BpeModel, BadMergesAndUnkAreConfigErrors) {
  EXPECT_THROW(BpeModel(kAbc, {{"a", "d"}}, {}, "test"), ConfigError);  // d is not in the vocabulary
  EXPECT_THROW(BpeModel({{"a", 0}, {"b", 1}}, {{"a", "b"}}, {}, "test"), ConfigError);  // "ab" is not
  BpeOptions o;
  o.unk_token = "<unk>";
  EXPECT_THROW(BpeModel(kAbc, {}, o, "test"), ConfigError);
  try {
    BpeModel(kAbc, {{"a", "b"}, {"q", "c"}}, {}, "my/tokenizer.json");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("my/tokenizer.json: merge 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'q'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpitune
