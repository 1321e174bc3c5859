// Byte-level BPE from hand-made tokenizer.json files through load_tokenizer: merges, both merge
// forms, added tokens (raw and normalized, lstrip/rstrip), NFC, ignore_merges and Digits in a
// Sequence, BOS/EOS/add_bos resolution, decode, repair of invalid UTF-8, fingerprints, files,
// and encode from several threads at once. Expected ids are worked out by hand from the
// vocabulary of MiniBpe (bytes are their own ids; listed tokens count from 256).
#include <gtest/gtest.h>

#include <thread>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"
#include "tokenizer_files.hpp"

namespace mpitune {
namespace {

using testing::added_token;
using testing::json;
using testing::MiniBpe;
using testing::TempDir;
using testing::write_file;
using Ids = std::vector<int32_t>;

const std::string G = "\xC4\xA0";  // 'Ġ'

// "hello" and " world" each merge into one token.
MiniBpe hello_world() {
  MiniBpe b;
  b.tokens = {"he", "ll", "hell", "hello", G + "w", "or", G + "wor", "ld", G + "world"};  // 256..264
  b.merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {G, "w"}, {"o", "r"}, {G + "w", "or"}, {"l", "d"}, {G + "wor", "ld"}};
  return b;
}

std::unique_ptr<Tokenizer> load(const MiniBpe& b, const TempDir& dir) {
  b.write(dir);
  return load_tokenizer(dir.path(), "");
}

TEST(TokenizerJson, MergesAndByteLevel) {
  TempDir dir;
  const auto t = load(hello_world(), dir);
  EXPECT_EQ(t->kind(), "bpe");
  EXPECT_EQ(t->vocab_size(), 265);
  EXPECT_EQ(t->encode("hello world"), (Ids{259, 264}));
  EXPECT_EQ(t->encode("hello  world"), (Ids{259, 32, 264}));
  // "world" without its space: w|or|ld (no merge joins w and or without Ġ).
  EXPECT_EQ(t->encode("world"), (Ids{119, 261, 263}));
  EXPECT_EQ(t->encode("hi\n"), (Ids{104, 105, 10}));
  EXPECT_EQ(t->encode(""), (Ids{}));
  EXPECT_EQ(t->decode({259, 264}), "hello world");
  EXPECT_EQ(t->decode({259, 99999, -1, 32}), "hello ");  // unknown ids are skipped
}

TEST(TokenizerJson, MergesAsPairsGiveTheSameIds) {
  TempDir dir;
  MiniBpe b = hello_world();
  b.merges_as_pairs = true;
  EXPECT_EQ(load(b, dir)->encode("hello world"), (Ids{259, 264}));
}

TEST(TokenizerJson, MergeOrderDecides) {
  TempDir dir;
  MiniBpe b;
  b.tokens = {"ab", "bc", "abc"};  // 256..258
  b.merges = {{"b", "c"}, {"a", "b"}, {"ab", "c"}};
  EXPECT_EQ(load(b, dir)->encode("abc"), (Ids{97, 257}));
  b.merges = {{"a", "b"}, {"b", "c"}, {"ab", "c"}};
  TempDir dir2;
  EXPECT_EQ(load(b, dir2)->encode("abc"), (Ids{258}));
}

TEST(TokenizerJson, AddedTokensAreFoundBeforePreTokenization) {
  TempDir dir;
  MiniBpe b = hello_world();
  b.added_tokens = json::array({added_token(265, "<|end|>")});
  const auto t = load(b, dir);
  EXPECT_EQ(t->vocab_size(), 266);
  // The text after the token is its own segment: "world" has no space before it.
  EXPECT_EQ(t->encode("hello<|end|>world"), (Ids{259, 265, 119, 261, 263}));
  EXPECT_EQ(t->encode("<|end|><|end|>"), (Ids{265, 265}));
  EXPECT_EQ(t->decode({259, 265, 264}), "hello<|end|> world");
}

TEST(TokenizerJson, AddedTokenStripsSpaces) {
  TempDir dir;
  MiniBpe b = hello_world();
  json tok = added_token(265, "<m>");
  tok["lstrip"] = true;
  tok["rstrip"] = true;
  b.added_tokens = json::array({tok});
  EXPECT_EQ(load(b, dir)->encode("hello <m> world"), (Ids{259, 265, 119, 261, 263}));
}

TEST(TokenizerJson, NfcNormalizer) {
  const std::string decomposed = "cafe\xCC\x81";  // e + U+0301 COMBINING ACUTE ACCENT
  const std::string composed = "caf\xC3\xA9";     // U+00E9
  TempDir plain_dir, nfc_dir;
  MiniBpe b;
  const auto plain = load(b, plain_dir);
  // Without NFC the combining accent (a mark, not a letter) is a piece of its own: bytes CC 81.
  EXPECT_EQ(plain->encode(decomposed), (Ids{99, 97, 102, 101, 0xCC, 0x81}));
  b.normalizer = {{"type", "NFC"}};
  const auto nfc = load(b, nfc_dir);
  EXPECT_EQ(nfc->encode(decomposed), (Ids{99, 97, 102, 0xC3, 0xA9}));
  EXPECT_EQ(nfc->encode(composed), (Ids{99, 97, 102, 0xC3, 0xA9}));
  TempDir seq_dir;
  b.normalizer = {{"type", "Sequence"}, {"normalizers", json::array({{{"type", "NFC"}}})}};
  EXPECT_EQ(load(b, seq_dir)->encode(decomposed), (Ids{99, 97, 102, 0xC3, 0xA9}));
}

TEST(TokenizerJson, NormalizedAddedTokensMatchTheNormalizedText) {
  const std::string decomposed = "cafe\xCC\x81";
  MiniBpe b;
  b.normalizer = {{"type", "NFC"}};
  json e = added_token(300, "\xC3\xA9", /*special=*/false);  // normalized: true
  b.added_tokens = json::array({e});
  TempDir dir;
  EXPECT_EQ(load(b, dir)->encode(decomposed), (Ids{99, 97, 102, 300}));
  // normalized: false looks in the raw text, where the decomposed form does not match.
  e["normalized"] = false;
  b.added_tokens = json::array({e});
  TempDir dir2;
  EXPECT_EQ(load(b, dir2)->encode(decomposed), (Ids{99, 97, 102, 0xC3, 0xA9}));
  EXPECT_EQ(load(b, dir2)->encode("caf\xC3\xA9"), (Ids{99, 97, 102, 300}));
}

TEST(TokenizerJson, SplitSequenceWithIgnoreMerges) {
  MiniBpe b;
  b.tokens = {G + "world"};  // 256, reachable by no merge
  b.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers",
                      json::array({{{"type", "Split"},
                                    {"pattern", {{"Regex", "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\s+"}}},
                                    {"behavior", "Isolated"},
                                    {"invert", false}},
                                   testing::byte_level_pre_tokenizer(false, false)})}};
  TempDir dir;
  EXPECT_EQ(load(b, dir)->encode(" world"), (Ids{32, 119, 111, 114, 108, 100}));
  b.model_options = {{"ignore_merges", true}};
  TempDir dir2;
  EXPECT_EQ(load(b, dir2)->encode(" world"), (Ids{256}));
  EXPECT_EQ(load(b, dir2)->encode(" worlds"), (Ids{32, 119, 111, 114, 108, 100, 115}));
}

TEST(TokenizerJson, DigitsBeforeByteLevel) {
  MiniBpe b;
  b.tokens = {"12"};  // 256
  b.merges = {{"1", "2"}};
  TempDir dir;
  EXPECT_EQ(load(b, dir)->encode("x12"), (Ids{120, 256}));
  b.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({{{"type", "Digits"}, {"individual_digits", true}},
                                                    testing::byte_level_pre_tokenizer()})}};
  TempDir dir2;
  EXPECT_EQ(load(b, dir2)->encode("x12"), (Ids{120, 49, 50}));
}

TEST(TokenizerJson, SplitStringPatternRemoved) {
  MiniBpe b;
  b.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({{{"type", "Split"},
                                                     {"pattern", {{"String", "."}}},
                                                     {"behavior", "Removed"},
                                                     {"invert", false}},
                                                    testing::byte_level_pre_tokenizer(false, false)})}};
  TempDir dir;
  EXPECT_EQ(load(b, dir)->encode("a.b"), (Ids{97, 98}));
}

TEST(TokenizerJson, BloomStyleSplitWithANestedClass) {
  // BLOOM's pattern only splits at whitespace and its punctuation (the parentheses and '|' are
  // part of its Oniguruma class too): "a1" stays one piece, unlike with GPT-2's pattern.
  MiniBpe b;
  b.tokens = {"a1", "f("};  // 256, 257
  b.merges = {{"a", "1"}, {"f", "("}};
  b.pre_tokenizer = {{"type", "Sequence"},
                     {"pretokenizers", json::array({{{"type", "Split"},
                                                     {"pattern", {{"Regex", " ?[^(\\s|[.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c])]+"}}},
                                                     {"behavior", "Isolated"},
                                                     {"invert", false}},
                                                    testing::byte_level_pre_tokenizer(false, false)})}};
  TempDir dir;
  const auto t = load(b, dir);
  EXPECT_EQ(t->encode("a1, f(x)"), (Ids{256, 44, 32, 102, 40, 120, 41}));
  EXPECT_EQ(t->encode("f(x)"), (Ids{102, 40, 120, 41}));
}

TEST(TokenizerJson, SequencePostProcessorWithATemplate) {
  TempDir dir;
  MiniBpe b = hello_world();
  b.added_tokens = json::array({added_token(265, "<|begin|>")});
  b.post_processor = {
      {"type", "Sequence"},
      {"processors",
       json::array({{{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}},
                    {{"type", "TemplateProcessing"},
                     {"single", json::array({{{"SpecialToken", {{"id", "<|begin|>"}, {"type_id", 0}}}},
                                             {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                     {"special_tokens", json::object()}}})}};
  const auto t = load(b, dir);
  EXPECT_TRUE(t->add_bos());
  EXPECT_EQ(t->bos_id(), 265);  // found by its content when the template lists no ids
}

TEST(TokenizerJson, SpecialTokensFromTokenizerConfig) {
  TempDir dir;
  MiniBpe b = hello_world();
  b.added_tokens = json::array({added_token(265, "<s>"), added_token(266, "</s>")});
  b.write(dir);
  write_file(dir.file("tokenizer_config.json"),
             R"({"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false}, "add_bos_token": true})");
  const auto t = load_tokenizer(dir.path(), "");
  EXPECT_EQ(t->bos_id(), 265);
  EXPECT_EQ(t->eos_id(), 266);
  EXPECT_TRUE(t->add_bos());
  EXPECT_EQ(t->files().size(), 2u);
  // encode() never adds them itself.
  EXPECT_EQ(t->encode("hello"), (Ids{259}));
}

TEST(TokenizerJson, TemplatePostProcessorMeansAddBos) {
  TempDir dir;
  MiniBpe b = hello_world();
  b.added_tokens = json::array({added_token(265, "<|begin|>")});
  b.post_processor = {{"type", "TemplateProcessing"},
                      {"single", json::array({{{"SpecialToken", {{"id", "<|begin|>"}, {"type_id", 0}}}},
                                              {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
                      {"pair", json::array()},
                      {"special_tokens", {{"<|begin|>", {{"id", "<|begin|>"}, {"ids", {265}}, {"tokens", {"<|begin|>"}}}}}}};
  const auto t = load(b, dir);
  EXPECT_TRUE(t->add_bos());
  EXPECT_EQ(t->bos_id(), 265);
  EXPECT_EQ(t->eos_id(), -1);
  // tokenizer_config.json's add_bos_token has the last word.
  write_file(dir.file("tokenizer_config.json"), R"({"add_bos_token": false})");
  EXPECT_FALSE(load_tokenizer(dir.path(), "")->add_bos());
}

TEST(TokenizerJson, ConfigJsonIdsAreTheFallback) {
  TempDir dir;
  MiniBpe b = hello_world();
  b.post_processor = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}, {"use_regex", true}};
  b.write(dir);
  auto t = load_tokenizer(dir.path(), "");
  EXPECT_EQ(t->bos_id(), -1);
  EXPECT_EQ(t->eos_id(), -1);
  EXPECT_FALSE(t->add_bos());
  write_file(dir.file("config.json"), R"({"bos_token_id": 259, "eos_token_id": [264, 1]})");
  t = load_tokenizer(dir.path(), "");
  EXPECT_EQ(t->bos_id(), 259);
  EXPECT_EQ(t->eos_id(), 264);
  EXPECT_FALSE(t->add_bos());
}

TEST(TokenizerJson, UnknownSpecialTokenIsAConfigError) {
  TempDir dir;
  hello_world().write(dir);
  write_file(dir.file("tokenizer_config.json"), R"({"bos_token": "<nope>"})");
  try {
    load_tokenizer(dir.path(), "");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("<nope>"), std::string::npos) << e.what();
  }
}

TEST(TokenizerJson, DecodeRoundTripsAnyUtf8) {
  TempDir dir;
  MiniBpe b = hello_world();
  b.added_tokens = json::array({added_token(265, "<|end|>")});
  const auto t = load(b, dir);
  for (const std::string s : {"hello world", "na\xC3\xAFve \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80", "  tabs\t\tand\r\nlines\n",
                              "a<|end|>b <|end|>"})
    EXPECT_EQ(t->decode(t->encode(s)), s);
}

TEST(TokenizerJson, InvalidUtf8IsRepairedFirst) {
  TempDir dir;
  const auto t = load(hello_world(), dir);
  EXPECT_EQ(t->encode("a\xFF" "b"), t->encode("a\xEF\xBF\xBD" "b"));
  EXPECT_EQ(t->encode("a\xFF" "b"), (Ids{97, 0xEF, 0xBF, 0xBD, 98}));
}

TEST(TokenizerJson, FingerprintDescriptionAndFiles) {
  TempDir dir, same, other;
  const auto a = load(hello_world(), dir);
  const auto b = load(hello_world(), same);
  MiniBpe changed = hello_world();
  changed.merges.pop_back();
  const auto c = load(changed, other);
  EXPECT_EQ(a->fingerprint().size(), 16u);
  EXPECT_EQ(a->fingerprint(), b->fingerprint());  // same bytes in another folder
  EXPECT_NE(a->fingerprint(), c->fingerprint());
  EXPECT_NE(a->fingerprint(), make_byte_tokenizer()->fingerprint());
  EXPECT_EQ(a->description(), "bpe (tokenizer.json in " + dir.path() + "), 265 ids");
  EXPECT_EQ(a->files(), (std::vector<std::string>{dir.file("tokenizer.json")}));
  // A resolved special token is part of what decides the ids the data layer writes.
  write_file(dir.file("config.json"), R"({"eos_token_id": 264})");
  EXPECT_NE(load_tokenizer(dir.path(), "")->fingerprint(), a->fingerprint());
}

TEST(TokenizerJson, EncodeFromManyThreadsAtOnce) {
  TempDir dir;
  MiniBpe b = hello_world();
  b.added_tokens = json::array({added_token(265, "<|end|>")});
  const auto t = load(b, dir);
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i)
    texts.push_back("hello world " + std::to_string(i) + " w" + std::string(i % 7, 'o') + "rld<|end|>hell" +
                    std::to_string(i * 7919));
  std::vector<Ids> serial;
  for (const auto& s : texts) serial.push_back(t->encode(s));
  TempDir fresh_dir;
  const auto fresh = load(b, fresh_dir);  // an empty cache, filled by all threads together
  std::vector<std::vector<Ids>> got(4);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 5; ++rep)
        for (const auto& s : texts) got[k].push_back(fresh->encode(s));
    });
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k)
    for (size_t i = 0; i < got[k].size(); ++i) ASSERT_EQ(got[k][i], serial[i % texts.size()]) << k << " " << i;
}

}  // namespace
}  // namespace mpitune
