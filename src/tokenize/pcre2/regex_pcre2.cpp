// PCRE2 behind the split patterns of tokenizer.json: compiling (with JIT) and matching (see
// regex.hpp). Built when PCRE2 is found; no_pcre2/regex_unavailable.cpp otherwise.
#include "mpitune/tokenize/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/utf8.hpp"

namespace mpitune {

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  const int n = pcre2_get_error_message(code, buf, sizeof buf);
  return n < 0 ? "PCRE2 error " + std::to_string(code) : std::string(reinterpret_cast<char*>(buf));
}

// One match-data block per thread, reused by every pattern: only ovector[0..1] (the whole
// match) is read, so a single pair is enough whatever the pattern's groups.
struct ThreadMatchData {
  pcre2_match_data* md = pcre2_match_data_create(1, nullptr);
  ~ThreadMatchData() { pcre2_match_data_free(md); }
};

pcre2_match_data* thread_match_data() {
  thread_local ThreadMatchData data;
  MPITUNE_CHECK(data.md != nullptr, "pcre2_match_data_create failed (out of memory)");
  return data.md;
}

}  // namespace

Regex::Regex(const std::string& pcre2_pattern, const std::string& where) : pattern_(pcre2_pattern) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  auto code = std::make_shared<Code>();
  code->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pcre2_pattern.data()), pcre2_pattern.size(),
                             PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
  if (!code->code)
    throw ConfigError("data.tokenizer",
                      where + ": the pattern '" + pcre2_pattern + "' does not compile (" + pcre2_message(err) +
                          " at offset " + std::to_string(err_offset) + ")",
                      "use a tokenizer.json written by the tokenizers library");
  // JIT is a large speed-up where available; without it (rc < 0) the interpreter is used.
  (void)pcre2_jit_compile(code->code, PCRE2_JIT_COMPLETE);
  code_ = std::move(code);
}

void Regex::find_all(std::string_view text, std::vector<Match>& out) const {
  pcre2_match_data* md = thread_match_data();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t n = text.size();
  size_t pos = 0;
  uint32_t options = PCRE2_NO_UTF_CHECK;  // encode() made the text valid UTF-8
  bool skip_next_empty = false;           // the onig crate's find_iter rule, see below
  while (pos <= n) {
    int rc = pcre2_match(code_->code, subject, n, pos, options, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // The JIT's default 32 KiB stack ran out on a long input: the interpreter has no such limit.
      options |= PCRE2_NO_JIT;
      continue;
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0)
      throw InfraError("tokenizer: matching the pattern '" + pattern_ + "' failed: " + pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t begin = ov[0], end = ov[1];
    if (end > begin) {
      pos = end;
      skip_next_empty = true;
    } else {
      // An empty match: the search goes on one character later, and the first empty match
      // after a non-empty one is not reported (what the onig crate's FindMatches does).
      pos = end < n ? end + utf8::sequence_length(static_cast<unsigned char>(text[end])) : n + 1;
      if (skip_next_empty) {
        skip_next_empty = false;
        continue;
      }
    }
    out.push_back({begin, end});
  }
}

}  // namespace mpitune
