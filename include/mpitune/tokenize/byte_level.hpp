// GPT-2's byte-level alphabet: every byte 0..255 written as one printable Unicode character.
//
// Byte-level BPE vocabularies (GPT-2, Llama-3, Qwen2, SmolLM, BLOOM) hold strings of these
// characters, not raw bytes: the 188 printable bytes ('!'..'~', 0xA1..0xAC, 0xAE..0xFF) stand
// for themselves and the other 68 (controls, space, 0x7F..0xA0, 0xAD) are moved to U+0100 and
// up in byte order, so a space is 'Ġ' (U+0120) and a newline 'Ċ' (U+010A). The ByteLevel
// pre-tokenizer maps text into this alphabet; the ByteLevel decoder maps it back.
#pragma once

#include <string>
#include <string_view>

namespace mpitune::byte_level {

// The character that stands for `byte`.
char32_t char_of(unsigned char byte);
// The byte a character stands for, or -1 when `c` is not in the alphabet.
int byte_of(char32_t c);

// Raw bytes -> UTF-8 text in the alphabet (each byte becomes one character).
std::string encode(std::string_view bytes);
// Text in the alphabet -> raw bytes. Characters outside it (e.g. in an added token's content)
// are kept as their own UTF-8.
std::string decode(std::string_view text);

}  // namespace mpitune::byte_level
