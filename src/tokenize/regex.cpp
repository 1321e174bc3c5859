// Oniguruma patterns as PCRE2 patterns, and literals as patterns (see regex.hpp); the Regex
// class itself is in pcre2/regex_pcre2.cpp (or no_pcre2/ in a build without PCRE2).
#include "mpitune/tokenize/regex.hpp"

#include <stdexcept>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/utf8.hpp"

namespace mpitune {

namespace {

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

}  // namespace mpitune
