// Training a byte-level BPE tokenizer on a corpus, the GPT-2 scheme (Radford et al. 2019; the
// `tokenizers` library's BpeTrainer with a ByteLevel pre-tokenizer), so that mpitune can make
// its own base model's tokenizer instead of borrowing one.
//
//  1. Each document is cut at the special tokens written in it (they are never learned), its
//     invalid UTF-8 repaired and split by GPT-2's pattern (kGpt2Pattern, no prefix space): the
//     very pieces ("words") the ByteLevel pre-tokenizer gives the encoder, so training and
//     encoding see the same words. Distinct words are counted.
//  2. The vocabulary starts as the 256 byte-level symbols, id = byte value; each word is a run
//     of them.
//  3. Repeatedly, the adjacent pair with the highest count over all words (a word's count
//     times its occurrences of the pair) is merged everywhere, left to right, into one symbol,
//     the concatenation of the two strings; it gets the next id unless an earlier merge made the
//     same string already (then the merge is recorded and reuses that id, as the library does).
//     Ties are broken by the smallest pair of ids (left id, then right id): bytes by value,
//     then older merges first, which depends on nothing but the corpus, so training is
//     deterministic. Pair counts are kept up to date incrementally: a merge visits only the
//     words that hold its pair, and a max-heap with lazy deletion finds the next best pair.
//  4. It stops when the vocabulary plus the special tokens reach vocab_size, or when no pair
//     occurs min_frequency times (then the vocabulary is smaller: `exhausted`).
//  5. The special tokens come last (GPT-2's <|endoftext|> is its last id too); the first one is
//     the EOS of tokenizer_config.json. No BOS (bos_token null), as GPT-2.
//
// write_bpe_tokenizer() writes tokenizer.json (BPE model with "a b" merges, ByteLevel
// pre-tokenizer, post-processor and decoder, the specials as added_tokens) and
// tokenizer_config.json, which mpitune's loader, transformers and transformers.js read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mpitune {

struct BpeTrainerOptions {
  int64_t vocab_size = 4096;  // byte symbols + merged symbols + special tokens
  int64_t min_frequency = 2;  // a pair seen fewer times is not merged
  std::vector<std::string> special_tokens = {"<|endoftext|>"};  // the first is the EOS
};

struct TrainedBpe {
  std::vector<std::string> vocab;                         // id -> token, in the byte-level alphabet
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  int32_t eos_id = -1;                                    // the first special token's id
  size_t special_count = 0;                               // the last ids of vocab
  bool exhausted = false;  // stopped before vocab_size: no pair left with min_frequency
};

class BpeTrainer {
 public:
  // ConfigError("--vocab-size") when vocab_size leaves no room for the 256 bytes and the
  // specials; ConfigError("--special-tokens") for an empty or repeated special token.
  explicit BpeTrainer(BpeTrainerOptions options);

  // Counts the words of one document.
  void add_document(std::string_view text);
  // Words seen so far: all and distinct.
  int64_t word_count() const { return word_total_; }
  size_t distinct_words() const { return counts_.size(); }

  TrainedBpe train() const;

 private:
  void add_segment(std::string_view text);

  BpeTrainerOptions options_;
  std::unordered_map<std::string, int64_t> counts_;  // word (raw bytes) -> occurrences
  int64_t word_total_ = 0;
};

// The file texts (JSON, ending in a newline).
std::string tokenizer_json_text(const TrainedBpe& bpe);
std::string tokenizer_config_json_text(const TrainedBpe& bpe);

// Writes dir/tokenizer.json and dir/tokenizer_config.json (atomically, dir created); returns
// their paths. InfraError on I/O failure.
std::vector<std::string> write_bpe_tokenizer(const TrainedBpe& bpe, const std::string& dir);

}  // namespace mpitune
