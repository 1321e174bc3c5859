// Training text of the GPT trainable: the files of a corpus, the byte-level tokenizer, the
// deterministic train/validation split and the windows that make batches. No torch here.
//
// Tokens are bytes (vocabulary 256): no tokenizer files are needed and every text is valid.
// Split: the last data.val_fraction of EACH file is validation, the rest training. The training
// parts of all files are concatenated in name order, and so are the validation parts (a window
// may span two files, as GPT pretraining runs over concatenated documents); no window of one
// split ever touches a byte of the other.
// Training windows are drawn with a seeded Rng. Every rank of a group draws the offsets of the
// whole global batch and reads only its own rows, so the global batch does not depend on the
// group size, and the data position is the Rng state (saved and moved with checkpoints).
// Validation windows are fixed (evenly spaced over the validation split), the same for every
// trial, so eval losses are comparable across trials.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/rng.hpp"

namespace mpitune {

constexpr int kByteVocab = 256;

// The files of corpus `path`: the path itself when it is a file; for a folder its regular files
// sorted by name, skipping symlinks and names ending in ".dat" (the index files of fortunes).
// Throws ConfigError("data.corpus") when the path does not exist or cannot be listed.
std::vector<std::string> corpus_files(const std::string& path);

// How many of a file's `size` bytes are held out for validation: floor(size * val_fraction).
int64_t held_out_bytes(int64_t size, double val_fraction);

struct SplitSizes {
  int64_t train = 0;
  int64_t validation = 0;
};
// The byte counts of the two splits, from the file sizes alone (cheap: nothing is read).
SplitSizes split_sizes(const std::vector<std::string>& files, double val_fraction);

class Corpus {
 public:
  // Reads and splits the corpus. Throws ConfigError("data.corpus") when it cannot be read.
  static Corpus load(const std::string& path, double val_fraction);
  // The same split applied to texts given in memory (one per file), for tests and benchmarks.
  static Corpus from_texts(const std::vector<std::string>& texts, double val_fraction);

  const std::string& train() const { return train_; }
  const std::string& validation() const { return validation_; }

 private:
  void add(const std::string& text, double val_fraction);
  std::string train_;
  std::string validation_;
};

// Window offsets into a split of `split_bytes` bytes; a window is `window` consecutive bytes
// (seq_len + 1: the inputs and the targets shifted by one). Require split_bytes >= window.
// `count` offsets drawn uniformly from [0, split_bytes - window] with `rng`.
std::vector<int64_t> draw_windows(Rng& rng, int64_t split_bytes, int64_t window, int64_t count);
// `count` offsets evenly spaced from 0 to split_bytes - window (both ends included).
std::vector<int64_t> spaced_windows(int64_t split_bytes, int64_t window, int64_t count);
// The bytes of the windows offsets[begin, end) of `split`, row-major: (end - begin) x window.
std::vector<uint8_t> read_windows(const std::string& split, const std::vector<int64_t>& offsets,
                                  int64_t begin, int64_t end, int64_t window);

// The rows [begin, end) of a global batch of `rows` that rank `rank` of `size` processes:
// [rank * rows / size, (rank + 1) * rows / size). `rows` must be a multiple of `size`.
struct RowRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t count() const { return end - begin; }
};
RowRange rank_rows(int64_t rows, int rank, int size);

}  // namespace mpitune
