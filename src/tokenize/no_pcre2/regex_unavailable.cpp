// A build without PCRE2: tokenizer.json split patterns (and GPT-2's byte-level pattern) cannot
// run, so loading such a tokenizer is one clear error; bytes and SentencePiece still work.
#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/regex.hpp"

namespace mpitune {

struct Regex::Code {};

Regex::Regex(const std::string& pcre2_pattern, const std::string& where) : pattern_(pcre2_pattern) {
  throw ConfigError("data.tokenizer", where + ": this build of mpitune has no PCRE2, which byte-level BPE split patterns need",
                    "install libpcre2-dev (or load a PCRE2 module) and rebuild, or use tokenizer = bytes");
}

void Regex::find_all(std::string_view, std::vector<Match>&) const {
  MPITUNE_CHECK(false, "a Regex cannot exist without PCRE2");
}

}  // namespace mpitune
