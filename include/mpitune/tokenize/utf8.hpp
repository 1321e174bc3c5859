// UTF-8 helpers of the tokenizers: walking code points, checking, repairing, appending.
//
// Every stage past the input (regex splits, normalizers, the BPE model's characters) assumes
// valid UTF-8, as the Rust `tokenizers` library can (its input is a &str). Bytes that are not
// valid UTF-8 are replaced by U+FFFD once, at the start of encode(), as Python's
// `bytes.decode(errors="replace")` would do before the reference tokenizer ever saw them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mpitune::utf8 {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes the code point starting at s[i] and advances i past it. Returns false (leaving i
// unchanged) at an invalid, overlong, surrogate or truncated sequence.
bool next(std::string_view s, size_t& i, char32_t& cp);

// Length in bytes of the (valid) sequence starting with `lead`.
inline size_t sequence_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

bool is_valid(std::string_view s);
// `s` with each maximal invalid subsequence replaced by U+FFFD.
std::string repaired(std::string_view s);
void append(std::string& out, char32_t cp);

}  // namespace mpitune::utf8
