// Split patterns through PCRE2: Oniguruma's nested classes (BLOOM), what must be rejected,
// literal escaping, match iteration (empty matches, byte offsets of UTF-8) and Unicode classes.
#include <gtest/gtest.h>

#include <stdexcept>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/regex.hpp"

namespace mpitune {
namespace {

std::vector<std::pair<size_t, size_t>> matches(const std::string& pattern, const std::string& text) {
  std::vector<Regex::Match> m;
  Regex(pattern, "test").find_all(text, m);
  std::vector<std::pair<size_t, size_t>> out;
  for (const auto& x : m) out.emplace_back(x.begin, x.end);
  return out;
}

using Spans = std::vector<std::pair<size_t, size_t>>;

TEST(OnigToPcre2, InlinesNestedClassesAsBloomNeedsThem) {
  // BLOOM's pattern: Oniguruma reads the inner [...] as part of the outer negated class.
  EXPECT_EQ(onig_to_pcre2(" ?[^(\\s|[.,!?…。，、।۔،])]+"), " ?[^(\\s|.,!?…。，、।۔،)]+");
  EXPECT_EQ(onig_to_pcre2("[a-c[x-z]]"), "[a-cx-z]");
  // What needs no translation stays as it is (Llama-3's pattern, POSIX brackets, escapes).
  const std::string llama3 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  EXPECT_EQ(onig_to_pcre2(llama3), llama3);
  EXPECT_EQ(onig_to_pcre2("[[:alpha:]]+"), "[[:alpha:]]+");
  EXPECT_EQ(onig_to_pcre2("[\\]a]"), "[\\]a]");
  EXPECT_EQ(onig_to_pcre2("[]a]"), "[]a]");  // a leading ']' is a literal in both dialects
  // Oniguruma's \h is a hex digit.
  EXPECT_EQ(onig_to_pcre2("\\h+"), "[0-9A-Fa-f]+");
}

TEST(OnigToPcre2, RejectsWhatPcre2CannotSay) {
  EXPECT_THROW(onig_to_pcre2("[^a[^b]]"), std::invalid_argument);
  EXPECT_THROW(onig_to_pcre2("[a-z&&[^aeiou]]"), std::invalid_argument);
  EXPECT_THROW(onig_to_pcre2("[abc"), std::invalid_argument);
}

TEST(Regex, TranslatedBloomPatternSplitsOnItsPunctuation) {
  const std::string p = onig_to_pcre2(" ?[^(\\s|[.,!?…。，、।۔،])]+");
  EXPECT_EQ(matches(p, "Hello, world!"), (Spans{{0, 5}, {6, 12}}));  // "Hello", " world"
}

TEST(Regex, ByteOffsetsOfUtf8AndUnicodeClasses) {
  // "héllo" is 6 bytes; \p{L} knows é and ö.
  EXPECT_EQ(matches("\\p{L}+", "h\xC3\xA9llo w\xC3\xB6rld"), (Spans{{0, 6}, {7, 13}}));
  // \s is Unicode (U+3000 ideographic space, U+0085 next line), as in Oniguruma.
  EXPECT_EQ(matches("\\s", "a\xE3\x80\x80" "b\xC2\x85" "c"), (Spans{{1, 4}, {5, 7}}));
  EXPECT_EQ(matches("\\p{N}", "x\xD9\xA1" "2"), (Spans{{1, 3}, {3, 4}}));  // Arabic-Indic one, then 2
}

TEST(Regex, EmptyMatchesAdvanceOneCharacter) {
  EXPECT_EQ(matches("x*", "ab"), (Spans{{0, 0}, {1, 1}, {2, 2}}));
  // After an empty match inside a multi-byte character's neighbourhood the next search starts
  // at the next character, not the next byte.
  EXPECT_EQ(matches("x*", "\xC3\xA9"), (Spans{{0, 0}, {2, 2}}));
  // The empty match that follows a non-empty one is skipped (the onig crate's find_iter).
  EXPECT_EQ(matches("a|", "ba"), (Spans{{0, 0}, {1, 2}}));
  EXPECT_EQ(matches("a*", "aab"), (Spans{{0, 2}, {3, 3}}));
}

TEST(Regex, LiteralsAreEscaped) {
  EXPECT_EQ(matches(regex_escape("a.b*"), "a.b* axbb"), (Spans{{0, 4}}));
  EXPECT_EQ(matches(regex_escape("(?)"), "x(?)y"), (Spans{{1, 4}}));
  EXPECT_EQ(matches(regex_escape("\xC3\xA9."), "\xC3\xA9x\xC3\xA9."), (Spans{{3, 6}}));
}

TEST(Regex, BadPatternIsAConfigErrorNamingWhere) {
  try {
    Regex("(unclosed", "tokenizer.json pre_tokenizer");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.tokenizer");
    EXPECT_NE(std::string(e.what()).find("tokenizer.json pre_tokenizer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpitune
