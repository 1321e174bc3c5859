// Added tokens in text: leftmost-longest, non-overlapping matching, single_word, lstrip /
// rstrip (Unicode whitespace), and spaces a previous token already took.
#include <gtest/gtest.h>

#include "mpitune/tokenize/added_tokens.hpp"

namespace mpitune {
namespace {

struct Seg {
  std::string text;
  int32_t id;
  bool operator==(const Seg& o) const { return text == o.text && id == o.id; }
};
std::ostream& operator<<(std::ostream& os, const Seg& s) { return os << "{\"" << s.text << "\", " << s.id << "}"; }
using Segs = std::vector<Seg>;

AddedToken token(const std::string& content, int32_t id) {
  AddedToken t;
  t.content = content;
  t.id = id;
  t.special = true;
  return t;
}

Segs split(const AddedTokenMatcher& m, const std::string& text) {
  std::vector<AddedTokenMatcher::Segment> out;
  m.split(text, out);
  Segs segs;
  for (const auto& s : out) segs.push_back({text.substr(s.begin, s.end - s.begin), s.id});
  return segs;
}

TEST(AddedTokens, LeftmostLongestNonOverlapping) {
  const AddedTokenMatcher m({token("ab", 10), token("abc", 11), token("bcd", 12)});
  // At the leftmost start (1) "ab" and "abc" match: the longer wins; "bcd" overlaps it.
  EXPECT_EQ(split(m, "xabcd"), (Segs{{"x", -1}, {"abc", 11}, {"d", -1}}));
  EXPECT_EQ(split(m, "abab"), (Segs{{"ab", 10}, {"ab", 10}}));
  EXPECT_EQ(split(m, "xbcdab"), (Segs{{"x", -1}, {"bcd", 12}, {"ab", 10}}));
  EXPECT_EQ(split(m, "plain"), (Segs{{"plain", -1}}));
  EXPECT_EQ(split(m, ""), (Segs{}));
}

TEST(AddedTokens, SingleWord) {
  AddedToken t = token("ab", 7);
  t.single_word = true;
  const AddedTokenMatcher m({t});
  EXPECT_EQ(split(m, "ab cd"), (Segs{{"ab", 7}, {" cd", -1}}));
  EXPECT_EQ(split(m, "x ab, y"), (Segs{{"x ", -1}, {"ab", 7}, {", y", -1}}));
  EXPECT_EQ(split(m, "xab cd"), (Segs{{"xab cd", -1}}));  // a word character before it
  EXPECT_EQ(split(m, "ab_"), (Segs{{"ab_", -1}}));        // '_' is a word character
  EXPECT_EQ(split(m, "\xC3\xA9" "ab"), (Segs{{"\xC3\xA9" "ab", -1}}));  // so is 'é'
}

TEST(AddedTokens, LstripAndRstripTakeTheWhitespaceAround) {
  AddedToken l = token("<m>", 5);
  l.lstrip = true;
  EXPECT_EQ(split(AddedTokenMatcher({l}), "x  <m>y"), (Segs{{"x", -1}, {"  <m>", 5}, {"y", -1}}));
  AddedToken r = token("<m>", 5);
  r.rstrip = true;
  EXPECT_EQ(split(AddedTokenMatcher({r}), "x<m> \t y"), (Segs{{"x", -1}, {"<m> \t ", 5}, {"y", -1}}));
  // Unicode whitespace counts (U+3000 ideographic space).
  EXPECT_EQ(split(AddedTokenMatcher({l}), "x\xE3\x80\x80<m>"), (Segs{{"x", -1}, {"\xE3\x80\x80<m>", 5}}));
}

TEST(AddedTokens, SpacesTakenByThePreviousTokenStayItsOwn) {
  AddedToken a = token("<a>", 1);
  a.rstrip = true;
  AddedToken b = token("<b>", 2);
  b.lstrip = true;
  EXPECT_EQ(split(AddedTokenMatcher({a, b}), "<a> <b>"), (Segs{{"<a> ", 1}, {"<b>", 2}}));
}

}  // namespace
}  // namespace mpitune
