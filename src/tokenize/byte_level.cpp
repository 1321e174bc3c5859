// GPT-2's byte-level alphabet (see byte_level.hpp).
#include "mpitune/tokenize/byte_level.hpp"

#include <array>

#include "mpitune/tokenize/utf8.hpp"

namespace mpitune::byte_level {
namespace {

bool printable(int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); }

// The 68 moved bytes take U+0100..U+0143, so every character of the alphabet is below 324.
constexpr char32_t kAlphabetEnd = 256 + 68;

struct Tables {
  std::array<char32_t, 256> char_of{};
  std::array<std::string, 256> utf8_of;  // char_of as UTF-8, for encode()
  std::array<int, kAlphabetEnd> byte_of{};
  Tables() {
    byte_of.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      char_of[b] = printable(b) ? static_cast<char32_t>(b) : next++;
      utf8::append(utf8_of[b], char_of[b]);
      byte_of[char_of[b]] = b;
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t char_of(unsigned char byte) { return tables().char_of[byte]; }

int byte_of(char32_t c) { return c < kAlphabetEnd ? tables().byte_of[c] : -1; }

std::string encode(std::string_view bytes) {
  const Tables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) out += t.utf8_of[static_cast<unsigned char>(ch)];
  return out;
}

std::string decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    char32_t cp;
    if (!utf8::next(text, i, cp)) {  // not UTF-8: pass the byte through
      out.push_back(text[i++]);
      continue;
    }
    const int b = byte_of(cp);
    if (b >= 0) out.push_back(static_cast<char>(b));
    else out.append(text.substr(start, i - start));
  }
  return out;
}

}  // namespace mpitune::byte_level
