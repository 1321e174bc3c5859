// Tokenizers for the data tests, each small enough that expected ids are computed by hand.
#pragma once

#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mpitune/tokenize/tokenizer.hpp"

namespace mpitune::testing {

// Bytes, except that "ab" is one token (kAb): a tokenizer whose tokens can span the boundary
// of two texts written one after the other, as BPE's do. BOS and EOS lie past 255 and a
// document starts with BOS, so the data layer's special-token rules are all exercised.
class PairTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kAb = 256;
  static constexpr int32_t kBos = 298;
  static constexpr int32_t kEos = 299;

  explicit PairTokenizer(std::string fingerprint = "pair-v1") : fingerprint_(std::move(fingerprint)) {}

  std::vector<int32_t> encode(std::string_view text) const override {
    encode_calls.fetch_add(1);
    std::vector<int32_t> ids;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == 'a' && i + 1 < text.size() && text[i + 1] == 'b') {
        ids.push_back(kAb);
        ++i;
      } else {
        ids.push_back(static_cast<unsigned char>(text[i]));
      }
    }
    return ids;
  }
  std::string decode(const std::vector<int32_t>&) const override { return {}; }
  int64_t vocab_size() const override { return 300; }
  int32_t bos_id() const override { return kBos; }
  int32_t eos_id() const override { return kEos; }
  bool add_bos() const override { return true; }
  std::string kind() const override { return "pair"; }
  std::string description() const override { return "pair test tokenizer"; }
  std::string fingerprint() const override { return fingerprint_; }

  mutable std::atomic<int64_t> encode_calls{0};

 private:
  std::string fingerprint_;
};

// Returns one id past its vocabulary: a broken tokenizer the data layer must catch.
class OutOfRangeTokenizer final : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view) const override { return {1, 2, 10}; }
  std::string decode(const std::vector<int32_t>&) const override { return {}; }
  int64_t vocab_size() const override { return 10; }
  std::string kind() const override { return "broken"; }
  std::string description() const override { return "out-of-range test tokenizer"; }
  std::string fingerprint() const override { return "broken"; }
};

// Throws on a text containing "boom", as a tokenizer may on input it cannot handle.
class ThrowingTokenizer final : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text) const override {
    if (text.find("boom") != std::string_view::npos) throw std::runtime_error("cannot tokenize boom");
    return std::vector<int32_t>(text.size(), 1);
  }
  std::string decode(const std::vector<int32_t>&) const override { return {}; }
  int64_t vocab_size() const override { return 2; }
  std::string kind() const override { return "throwing"; }
  std::string description() const override { return "throwing test tokenizer"; }
  std::string fingerprint() const override { return "throwing"; }
};

// The ids of `text` with one id per byte (the byte tokenizer's, and PairTokenizer's when the
// text has no "ab").
inline std::vector<int32_t> byte_ids(std::string_view text) {
  std::vector<int32_t> ids;
  for (unsigned char c : text) ids.push_back(c);
  return ids;
}

}  // namespace mpitune::testing
