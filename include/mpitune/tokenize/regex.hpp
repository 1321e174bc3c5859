// The split patterns of tokenizer.json, compiled by PCRE2 (UTF + UCP) to behave as the
// `tokenizers` library's Oniguruma regexes do.
//
// Patterns in tokenizer.json are written for Oniguruma. The two dialects agree on everything the
// published tokenizers use ((?i:...), \p{L}, \p{N}, lookahead, {1,3}) except nested character
// classes, which BLOOM's pattern relies on: Oniguruma reads `[^(\s|[.,!?])]` as one class (the
// inner class joins the outer one), PCRE2 as a class followed by a stray ")]". onig_to_pcre2()
// inlines such inner classes. With UCP, PCRE2's \s, \w, \d are Unicode-aware as Oniguruma's are
// (\s includes U+0085 in both). Compiled code is shared and immutable; matching is thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mpitune {

// Oniguruma pattern -> PCRE2 pattern with the same meaning. Throws std::invalid_argument naming
// the construct when the pattern uses Oniguruma syntax PCRE2 cannot express here (a negated
// class nested in a class, class intersection &&).
std::string onig_to_pcre2(std::string_view pattern);

// A literal string as a PCRE2 pattern that matches exactly it (Split's {"String": ...}).
std::string regex_escape(std::string_view literal);

class Regex {
 public:
  struct Match {
    size_t begin, end;  // byte offsets, end exclusive; begin == end for an empty match
  };

  // Compiles `pcre2_pattern` (already translated). Throws ConfigError("data.tokenizer", ...)
  // with `where` (file and key) when PCRE2 rejects it.
  Regex(const std::string& pcre2_pattern, const std::string& where);

  // All non-overlapping matches in `text` (valid UTF-8), left to right, as the onig crate's
  // find_iter (which the tokenizers library uses) returns them: after an empty match the search
  // resumes one character later, and an empty match right after a non-empty one is skipped.
  void find_all(std::string_view text, std::vector<Match>& out) const;

  const std::string& pattern() const { return pattern_; }

 private:
  struct Code;
  std::shared_ptr<const Code> code_;
  std::string pattern_;
};

}  // namespace mpitune
