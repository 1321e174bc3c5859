// The byte-level BPE tokenizer (see bpe_tokenizer.hpp).
#include "bpe_tokenizer.hpp"

#include <algorithm>
#include <unordered_map>

#include "mpitune/tokenize/byte_level.hpp"
#include "mpitune/tokenize/utf8.hpp"

namespace mpitune {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The byte of a byte-fallback token "<0xE2>", or -1 for any other token.
int fallback_byte(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(BpeParts parts) : p_(std::move(parts)) {
    std::vector<AddedToken> raw, normalized;
    for (auto t : p_.added_tokens) {
      added_content_[t.id] = t.content;
      id_end_ = std::max<int64_t>(id_end_, int64_t{t.id} + 1);
      if (t.normalized) {
        if (p_.normalizer) t.content = p_.normalizer->normalize(t.content);
        normalized.push_back(std::move(t));
      } else {
        raw.push_back(std::move(t));
      }
    }
    raw_matcher_ = AddedTokenMatcher(raw);
    normalized_matcher_ = AddedTokenMatcher(normalized);
    id_end_ = std::max(id_end_, p_.model->id_end());
  }

  std::vector<int32_t> encode(std::string_view text) const override {
    std::string repaired;
    if (!utf8::is_valid(text)) {
      repaired = utf8::repaired(text);
      text = repaired;
    }
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3 + 4);
    std::vector<AddedTokenMatcher::Segment> raw_segments, segments;
    std::vector<std::string> pieces;
    raw_matcher_.split(text, raw_segments);
    for (const auto& rs : raw_segments) {
      if (rs.id >= 0) {
        ids.push_back(rs.id);
        continue;
      }
      const std::string_view plain = text.substr(rs.begin, rs.end - rs.begin);
      const std::string normalized = p_.normalizer ? p_.normalizer->normalize(plain) : std::string(plain);
      normalized_matcher_.split(normalized, segments);
      for (const auto& s : segments) {
        if (s.id >= 0) {
          ids.push_back(s.id);
          continue;
        }
        pieces.clear();
        pieces.emplace_back(normalized, s.begin, s.end - s.begin);
        if (p_.pre_tokenizer) p_.pre_tokenizer->apply(pieces);
        for (const auto& piece : pieces) p_.model->encode_word(piece, ids);
      }
    }
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string out;
    for (int32_t id : ids) {
      const auto added = added_content_.find(id);
      if (added != added_content_.end()) {
        out += added->second;
        continue;
      }
      const std::string* token = p_.model->token_of(id);
      if (!token) continue;
      int byte = -1;
      if (p_.model->options().byte_fallback && (byte = fallback_byte(*token)) >= 0) {
        out.push_back(static_cast<char>(byte));
        continue;
      }
      out += byte_level::decode(*token);
    }
    return out;
  }

  int64_t vocab_size() const override { return id_end_; }
  int32_t bos_id() const override { return p_.special.bos; }
  int32_t eos_id() const override { return p_.special.eos; }
  bool add_bos() const override { return p_.special.add_bos; }
  std::string kind() const override { return "bpe"; }
  std::string description() const override {
    return "bpe (" + p_.source + "), " + std::to_string(id_end_) + " ids";
  }
  std::string fingerprint() const override { return p_.fingerprint; }
  std::vector<std::string> files() const override { return p_.files; }

 private:
  BpeParts p_;
  AddedTokenMatcher raw_matcher_;
  AddedTokenMatcher normalized_matcher_;
  std::unordered_map<int32_t, std::string> added_content_;
  int64_t id_end_ = 0;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeParts parts) { return std::make_unique<BpeTokenizer>(std::move(parts)); }

}  // namespace mpitune
