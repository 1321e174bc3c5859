// Added tokens found in text (see added_tokens.hpp).
#include "mpitune/tokenize/added_tokens.hpp"

#include <algorithm>

#include "mpitune/tokenize/regex.hpp"
#include "mpitune/tokenize/utf8.hpp"

namespace mpitune {
namespace {

// The library tests these with Rust's regex crate (\w and \s are Unicode there, as they are in
// PCRE2 with UCP).
const Regex& word_char() {
  static const Regex re("^\\w", "added tokens");
  return re;
}
const Regex& space_char() {
  static const Regex re("^\\s", "added tokens");
  return re;
}

bool starts_with(const Regex& re, std::string_view s) {
  if (s.empty()) return false;
  thread_local std::vector<Regex::Match> m;
  m.clear();
  const size_t len = std::min(s.size(), utf8::sequence_length(static_cast<unsigned char>(s[0])));
  re.find_all(s.substr(0, len), m);
  return !m.empty() && m[0].begin == 0 && m[0].end > 0;
}

// The character that ends s[0, end), as a view.
std::string_view last_char(std::string_view s) {
  size_t i = s.size();
  while (i > 0) {
    --i;
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) break;
  }
  return s.substr(i);
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens) {
  terminal_.push_back(-1);  // the root
  for (const auto& t : tokens) {
    if (t.content.empty()) continue;
    const auto index = static_cast<int32_t>(tokens_.size());
    tokens_.push_back(t);
    int32_t node = 0;
    for (char c : t.content) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(c);
      const auto it = edges_.find(key);
      if (it != edges_.end()) {
        node = it->second;
      } else {
        const auto child = static_cast<int32_t>(terminal_.size());
        terminal_.push_back(-1);
        edges_.emplace(key, child);
        node = child;
      }
    }
    // The same content twice: the later entry wins, as a later insert into the library's map.
    terminal_[node] = index;
    first_byte_[static_cast<unsigned char>(t.content[0])] = true;
  }
}

int AddedTokenMatcher::longest_at(std::string_view text, size_t pos, size_t& end) const {
  int best = -1;
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(text[i]);
    const auto it = edges_.find(key);
    if (it == edges_.end()) break;
    node = it->second;
    if (terminal_[node] >= 0) {
      best = terminal_[node];
      end = i + 1;
    }
  }
  return best;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<Segment>& out) const {
  out.clear();
  size_t start_offset = 0;  // end of what has been emitted
  size_t pos = 0;           // where the search for the next match resumes
  while (pos < text.size() && !tokens_.empty()) {
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    size_t stop = 0;
    const int index = longest_at(text, pos, stop);
    if (index < 0) {
      ++pos;
      continue;
    }
    size_t start = pos;
    pos = stop;  // the next match is searched after this one, even if it is discarded below
    const AddedToken& t = tokens_[static_cast<size_t>(index)];
    if (t.single_word) {
      const bool space_before = start == 0 || !starts_with(word_char(), last_char(text.substr(0, start)));
      const bool space_after = stop == text.size() || !starts_with(word_char(), text.substr(stop));
      if (!space_before || !space_after) continue;
    }
    if (t.lstrip) {
      size_t s = start;
      while (s > 0) {
        const std::string_view c = last_char(text.substr(0, s));
        if (!starts_with(space_char(), c)) break;
        s -= c.size();
      }
      start = std::max(s, start_offset);  // spaces a previous token already took stay its own
    }
    if (t.rstrip) {
      while (stop < text.size() && starts_with(space_char(), text.substr(stop)))
        stop += utf8::sequence_length(static_cast<unsigned char>(text[stop]));
    }
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, t.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({start_offset, text.size(), -1});
}

}  // namespace mpitune
