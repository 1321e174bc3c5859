// PCRE2 behind the split patterns of tokenizer.json (see regex.hpp).
#include "mpitune/tokenize/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdexcept>

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

// Appends the body of the class that starts at pattern[i] == '[' (without its brackets) and
// returns the index just past its closing ']'. Inner classes are inlined (a union, as
// Oniguruma reads them); POSIX [:name:] is kept as is.
size_t copy_class_body(std::string_view p, size_t i, std::string& out, bool nested) {
  ++i;  // '['
  if (i < p.size() && p[i] == '^') {
    if (nested) throw std::invalid_argument("a negated class nested inside a class");
    out.push_back('^');
    ++i;
  }
  bool first = true;
  while (i < p.size()) {
    const char c = p[i];
    if (c == ']' && !first) return i + 1;
    first = false;
    if (c == '\\' && i + 1 < p.size()) {
      // Keep the escape and the whole character after it (it may be multi-byte).
      const size_t len = utf8::sequence_length(static_cast<unsigned char>(p[i + 1]));
      out.append(p.substr(i, 1 + len));
      i += 1 + len;
      continue;
    }
    if (c == '[') {
      if (i + 1 < p.size() && p[i + 1] == ':') {  // POSIX bracket: copy through ":]"
        const size_t close = p.find(":]", i + 2);
        if (close == std::string_view::npos) throw std::invalid_argument("an unterminated [: class");
        out.append(p.substr(i, close + 2 - i));
        i = close + 2;
        continue;
      }
      i = copy_class_body(p, i, out, true);
      continue;
    }
    if (c == '&' && i + 1 < p.size() && p[i + 1] == '&')
      throw std::invalid_argument("class intersection (&&)");
    out.push_back(c);
    ++i;
  }
  throw std::invalid_argument("an unterminated character class");
}

}  // namespace

std::string onig_to_pcre2(std::string_view p) {
  std::string out;
  out.reserve(p.size());
  size_t i = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      // Oniguruma's \h is a hexadecimal digit (PCRE2's is horizontal space).
      if (e == 'h') out += "[0-9A-Fa-f]";
      else if (e == 'H') out += "[^0-9A-Fa-f]";
      else out.append(p.substr(i, 2));
      i += 2;
      continue;
    }
    if (c == '[') {
      out.push_back('[');
      i = copy_class_body(p, i, out, false);
      out.push_back(']');
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

std::string regex_escape(std::string_view literal) {
  std::string out;
  out.reserve(literal.size() * 2);
  for (char c : literal) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = u >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!plain) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

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
