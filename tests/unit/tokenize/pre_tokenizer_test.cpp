// Pre-tokenizers: every Split behaviour (the example of the tokenizers library's documentation,
// "the-final--countdown" split on "-"), invert, String patterns, Digits, ByteLevel with and
// without its regex and prefix space, and a Llama-3-style Sequence.
#include <gtest/gtest.h>

#include "mpitune/tokenize/pre_tokenizer.hpp"

namespace mpitune {
namespace {

using Pieces = std::vector<std::string>;

Pieces run(const PreTokenizer& p, const std::string& text) {
  Pieces pieces{text};
  p.apply(pieces);
  return pieces;
}

Pieces split(const std::string& pattern, SplitBehavior b, const std::string& text, bool invert = false) {
  return run(*make_split_pre_tokenizer(Regex(pattern, "test"), b, invert), text);
}

TEST(SplitPreTokenizer, EachBehaviourOnTheDocumentedExample) {
  const std::string t = "the-final--countdown";
  EXPECT_EQ(split("-", SplitBehavior::Removed, t), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::Isolated, t), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::MergedWithPrevious, t), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::MergedWithNext, t), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(split("-", SplitBehavior::Contiguous, t), (Pieces{"the", "-", "final", "--", "countdown"}));
}

TEST(SplitPreTokenizer, DelimitersAtTheEdges) {
  const std::string t = "-a-";
  EXPECT_EQ(split("-", SplitBehavior::Removed, t), (Pieces{"a"}));
  EXPECT_EQ(split("-", SplitBehavior::MergedWithPrevious, t), (Pieces{"-", "a-"}));
  EXPECT_EQ(split("-", SplitBehavior::MergedWithNext, t), (Pieces{"-a", "-"}));
  EXPECT_EQ(split("-", SplitBehavior::Contiguous, "--a"), (Pieces{"--", "a"}));
  EXPECT_EQ(split("-", SplitBehavior::Isolated, "abc"), (Pieces{"abc"}));
}

TEST(SplitPreTokenizer, InvertMakesTheNonMatchesTheDelimiters) {
  EXPECT_EQ(split("[a-z]+", SplitBehavior::Removed, "ab, cd!", /*invert=*/true), (Pieces{"ab", "cd"}));
  EXPECT_EQ(split("[a-z]+", SplitBehavior::Removed, "ab, cd!", /*invert=*/false), (Pieces{", ", "!"}));
  EXPECT_EQ(split("[a-z]+", SplitBehavior::MergedWithNext, "ab, cd!", /*invert=*/true), (Pieces{"ab", ", cd", "!"}));
}

TEST(SplitPreTokenizer, StringPatternsAreLiteral) {
  EXPECT_EQ(split(regex_escape("."), SplitBehavior::Isolated, "a.b"), (Pieces{"a", ".", "b"}));
  EXPECT_EQ(split(regex_escape("."), SplitBehavior::Isolated, "abc"), (Pieces{"abc"}));
}

TEST(DigitsPreTokenizer, IndividualOrContiguous) {
  EXPECT_EQ(run(*make_digits_pre_tokenizer(true), "Call 123 please"), (Pieces{"Call ", "1", "2", "3", " please"}));
  EXPECT_EQ(run(*make_digits_pre_tokenizer(false), "Call 123 please"), (Pieces{"Call ", "123", " please"}));
  // Any Unicode number counts: U+00BD (one half) is No, U+0661 (Arabic-Indic one) is Nd.
  EXPECT_EQ(run(*make_digits_pre_tokenizer(true), "x\xC2\xBD\xD9\xA1"), (Pieces{"x", "\xC2\xBD", "\xD9\xA1"}));
}

const std::string G = "\xC4\xA0";  // 'Ġ', the byte-level image of a space
const std::string C = "\xC4\x8A";  // 'Ċ', of a newline

TEST(ByteLevelPreTokenizer, Gpt2SplitsAndMapsBytes) {
  const auto bl = make_byte_level_pre_tokenizer(false, true);
  EXPECT_EQ(run(*bl, "Hello world"), (Pieces{"Hello", G + "world"}));
  // Of two spaces before a word, the first stands alone (\s+(?!\S)), the second joins the word.
  EXPECT_EQ(run(*bl, "Hello  world"), (Pieces{"Hello", G, G + "world"}));
  EXPECT_EQ(run(*bl, "I'm 42!"), (Pieces{"I", "'m", G + "42", "!"}));
  EXPECT_EQ(run(*bl, "a\n\nb"), (Pieces{"a", C, C, "b"}));
  EXPECT_EQ(run(*bl, "abc123"), (Pieces{"abc", "123"}));
}

TEST(ByteLevelPreTokenizer, PrefixSpaceAndNoRegex) {
  EXPECT_EQ(run(*make_byte_level_pre_tokenizer(true, true), "Hello world"), (Pieces{G + "Hello", G + "world"}));
  EXPECT_EQ(run(*make_byte_level_pre_tokenizer(true, true), " Hello"), (Pieces{G + "Hello"}));
  EXPECT_EQ(run(*make_byte_level_pre_tokenizer(false, false), "Hello world"), (Pieces{"Hello" + G + "world"}));
}

TEST(SequencePreTokenizer, Llama3StyleSplitThenByteLevel) {
  const std::string llama3 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  steps.push_back(make_split_pre_tokenizer(Regex(llama3, "test"), SplitBehavior::Isolated, false));
  steps.push_back(make_byte_level_pre_tokenizer(false, false));
  const auto seq = make_sequence_pre_tokenizer(std::move(steps));
  // Numbers go in groups of at most three; a space before a number stands alone.
  EXPECT_EQ(run(*seq, "Hello 123456 world"), (Pieces{"Hello", G, "123", "456", G + "world"}));
  // The case-insensitive contractions.
  EXPECT_EQ(run(*seq, "I'M"), (Pieces{"I", "'M"}));
}

}  // namespace
}  // namespace mpitune
