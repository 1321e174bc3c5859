// GPT-2's byte-level alphabet: the known images of particular bytes (from GPT-2's
// bytes_to_unicode), a bijection over all 256 bytes, and decode(encode(b)) == b.
#include <gtest/gtest.h>

#include <set>

#include "mpitune/tokenize/byte_level.hpp"

namespace mpitune {
namespace {

TEST(ByteLevel, KnownCharacters) {
  EXPECT_EQ(byte_level::char_of('A'), U'A');
  EXPECT_EQ(byte_level::char_of('!'), U'!');
  EXPECT_EQ(byte_level::char_of(0xFF), U'\u00FF');
  EXPECT_EQ(byte_level::char_of(0xE9), U'\u00E9');
  // Moved bytes: 0x00..0x20 take U+0100..U+0120, 0x7F..0xA0 the next 34, 0xAD the last.
  EXPECT_EQ(byte_level::char_of(0x00), U'\u0100');
  EXPECT_EQ(byte_level::char_of('\n'), U'\u010A');  // 'Ċ'
  EXPECT_EQ(byte_level::char_of(' '), U'\u0120');   // 'Ġ'
  EXPECT_EQ(byte_level::char_of(0x7F), U'\u0121');
  EXPECT_EQ(byte_level::char_of(0xA0), U'\u0142');
  EXPECT_EQ(byte_level::char_of(0xAD), U'\u0143');
}

TEST(ByteLevel, IsABijectionOverAllBytes) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_level::char_of(static_cast<unsigned char>(b));
    EXPECT_TRUE(seen.insert(c).second) << "byte " << b;
    EXPECT_EQ(byte_level::byte_of(c), b);
  }
  EXPECT_EQ(byte_level::byte_of(U' '), -1);  // a space is not in the alphabet: it is written 'Ġ'
  EXPECT_EQ(byte_level::byte_of(U'\u0144'), -1);
  EXPECT_EQ(byte_level::byte_of(U'\u65E5'), -1);
}

TEST(ByteLevel, EncodeAndDecode) {
  EXPECT_EQ(byte_level::encode("a b\n"), "a\xC4\xA0" "b\xC4\x8A");  // "aĠbĊ"
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(byte_level::decode(byte_level::encode(all)), all);
  // "é" as UTF-8 is C3 A9: two characters of the alphabet, back to the same two bytes.
  EXPECT_EQ(byte_level::encode("\xC3\xA9"), "\xC3\x83\xC2\xA9");
  // Characters outside the alphabet (an added token's content) pass through.
  EXPECT_EQ(byte_level::decode("\xE6\x97\xA5 x"), "\xE6\x97\xA5 x");
}

}  // namespace
}  // namespace mpitune
