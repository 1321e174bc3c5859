// The BPE model of a tokenizer: one pre-token (a "word", already in the byte-level alphabet)
// -> token ids, exactly as the `tokenizers` library's BPE model computes them.
//
// A word starts as one symbol per character (its vocabulary id; with continuing_subword_prefix
// / end_of_word_suffix the prefixed / suffixed form); a character missing from the vocabulary
// becomes its <0xXX> byte tokens (byte_fallback), else the unk token (runs fused with
// fuse_unk), else it is dropped. Then the adjacent pair of lowest merge rank is merged, the
// leftmost first among equal ranks, until no adjacent pair has a merge. With ignore_merges
// (Llama-3) a word that is itself in the vocabulary is that one token.
//
// Words repeat a lot in text, so results are cached: a cache shared by all threads, split in
// shards with a mutex each (two threads rarely want the same shard at once), words under 256
// bytes only (as the library does). The model itself is immutable: encode_word is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mpitune {

struct BpeOptions {
  std::string unk_token;  // empty: none
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
};

class BpeModel {
 public:
  using Vocab = std::unordered_map<std::string, int32_t>;
  using Merges = std::vector<std::pair<std::string, std::string>>;  // in rank order

  // Throws ConfigError("data.tokenizer", ...) naming `where` when a merge's tokens or result are
  // not in the vocabulary, or unk_token is set but not in it.
  BpeModel(Vocab vocab, const Merges& merges, BpeOptions options, const std::string& where);
  ~BpeModel();
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of `word` to `out` (nothing for an empty word). Cached.
  void encode_word(const std::string& word, std::vector<int32_t>& out) const;
  // The same without the cache (tests, and words too long to cache).
  void encode_word_uncached(std::string_view word, std::vector<int32_t>& out) const;

  int32_t id_of(const std::string& token) const;   // -1 when absent
  const std::string* token_of(int32_t id) const;   // nullptr when absent
  int64_t id_end() const { return id_end_; }       // largest id + 1
  size_t vocab_count() const { return vocab_.size(); }
  size_t merge_count() const { return merges_.size(); }
  const BpeOptions& options() const { return options_; }

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void merge_all(std::vector<int32_t>& ids, std::vector<int32_t>& lens) const;

  Vocab vocab_;
  std::vector<const std::string*> token_of_;  // id -> vocabulary string (nullptr for holes)
  std::unordered_map<uint64_t, Merge> merges_;
  std::unordered_map<char32_t, int32_t> char_ids_;  // single-character tokens, the common lookup
  std::vector<int32_t> byte_fallback_ids_;          // <0x00>..<0xFF>, -1 where missing
  int32_t unk_id_ = -1;
  int64_t id_end_ = 0;
  BpeOptions options_;

  class Cache;
  std::unique_ptr<Cache> cache_;
};

}  // namespace mpitune
