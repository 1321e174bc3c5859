// Pre-tokenizers of byte-level BPE files (see pre_tokenizer.hpp). The split rules mirror the
// `tokenizers` library's NormalizedString::split: the string is first cut into alternating
// (span, is_delimiter) parts that cover it, then `behavior` folds them into pieces.
#include "mpitune/tokenize/pre_tokenizer.hpp"

#include <algorithm>

#include "mpitune/tokenize/byte_level.hpp"

namespace mpitune {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

struct Part {
  size_t begin, end;
  bool delimiter;
};

// The matches of `re` in `s` and the gaps between them, covering s.
void cut(const Regex& re, const std::string& s, bool invert, std::vector<Part>& parts) {
  thread_local std::vector<Regex::Match> matches;
  matches.clear();
  parts.clear();
  re.find_all(s, matches);
  size_t prev = 0;
  for (const auto& m : matches) {
    if (prev != m.begin) parts.push_back({prev, m.begin, invert});
    parts.push_back({m.begin, m.end, !invert});
    prev = m.end;
  }
  if (prev != s.size()) parts.push_back({prev, s.size(), invert});
}

// Folds the parts by `behavior` into the spans that become pieces.
void fold(std::vector<Part>& parts, SplitBehavior behavior) {
  std::vector<Part> out;
  out.reserve(parts.size());
  switch (behavior) {
    case SplitBehavior::Isolated:
      return;
    case SplitBehavior::Removed:
      for (const auto& p : parts)
        if (!p.delimiter) out.push_back(p);
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool previous_delimiter = false;
      for (const auto& p : parts) {
        if (p.delimiter && !previous_delimiter && !out.empty()) out.back().end = p.end;
        else out.push_back(p);
        previous_delimiter = p.delimiter;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool previous_delimiter = false;  // of the part after this one: the walk goes backwards
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->delimiter && !previous_delimiter && !out.empty()) out.back().begin = it->begin;
        else out.push_back(*it);
        previous_delimiter = it->delimiter;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool previous_delimiter = false;
      for (const auto& p : parts) {
        if (p.delimiter == previous_delimiter && !out.empty()) out.back().end = p.end;
        else out.push_back(p);
        previous_delimiter = p.delimiter;
      }
      break;
    }
  }
  parts.swap(out);
}

// Splits every piece by `re` and `behavior`.
void split_pieces(const Regex& re, SplitBehavior behavior, bool invert, std::vector<std::string>& pieces) {
  std::vector<std::string> out;
  out.reserve(pieces.size() * 2);
  std::vector<Part> parts;
  for (const auto& s : pieces) {
    cut(re, s, invert, parts);
    fold(parts, behavior);
    for (const auto& p : parts)
      if (p.end > p.begin) out.emplace_back(s, p.begin, p.end - p.begin);
  }
  pieces.swap(out);
}

class SplitPreTokenizer final : public PreTokenizer {
 public:
  SplitPreTokenizer(Regex re, SplitBehavior behavior, bool invert)
      : re_(std::move(re)), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<std::string>& pieces) const override { split_pieces(re_, behavior_, invert_, pieces); }

 private:
  Regex re_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex), re_(kGpt2Pattern, "ByteLevel") {}
  void apply(std::vector<std::string>& pieces) const override {
    if (add_prefix_space_)
      for (auto& p : pieces)
        if (p.empty() || p[0] != ' ') p.insert(p.begin(), ' ');
    if (use_regex_) split_pieces(re_, SplitBehavior::Isolated, false, pieces);
    for (auto& p : pieces) p = byte_level::encode(p);
  }

 private:
  bool add_prefix_space_;
  bool use_regex_;
  Regex re_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void apply(std::vector<std::string>& pieces) const override {
    for (const auto& step : steps_) step->apply(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_split_pre_tokenizer(Regex pattern, SplitBehavior behavior, bool invert) {
  return std::make_unique<SplitPreTokenizer>(std::move(pattern), behavior, invert);
}

std::unique_ptr<PreTokenizer> make_digits_pre_tokenizer(bool individual_digits) {
  // The library tests char::is_numeric (categories Nd, Nl, No), one character at a time: a
  // one-character \p{N} pattern gives the same delimiters.
  return make_split_pre_tokenizer(Regex("\\p{N}", "Digits"),
                                  individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false);
}

std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevelPreTokenizer>(add_prefix_space, use_regex);
}

std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps) {
  return std::make_unique<SequencePreTokenizer>(std::move(steps));
}

}  // namespace mpitune
