// The experiment's text as token ids: documents read from [data]'s corpus, split into train,
// validation and test, tokenized ONCE per experiment into one token file, cached by
// (corpus, tokenizer, split settings) hash and memory-mapped by every rank.
//
// Documents (documents.hpp): a text file is one document, or several cut by
// data.document_separator; a .jsonl file gives one document per line, from its `text` field,
// or from `prompt` + `completion` (the loss then counts on the completion only).
// Each document becomes [BOS if tokenizer.add_bos()] ids(text) [EOS when the tokenizer has
// one] (tokenize_documents.hpp), and the documents of a split are concatenated in corpus order
// into one stream, so training windows of seq_len + 1 tokens may span a document boundary, as
// in GPT pretraining.
//
// Split (split.hpp): the documents of data.corpus are split by a seeded permutation
// (data.split_seed): round(val_fraction x N) go to validation, round(test_fraction x N) to
// test, the rest to train. Validation comes from data.val_corpus instead when it is given, and
// test from data.test_corpus (each independently; with both, every document of data.corpus
// trains). Each split keeps its documents in corpus order. Test is empty unless test_fraction >
// 0 or test_corpus is given; train and validation never are.
//
// Loss mask: position i of a stream has mask[i] = 1 when token i is a target whose loss counts
// (predicting token i from the tokens before it). Plain text: every token counts (no mask is
// stored). prompt/completion: the completion's tokens and the EOS after it count; the prompt's
// tokens (and BOS) do not.
//
// The file (token_file.hpp) lives in the cache folder under a name that hashes everything that
// decides its bytes (cache_key.hpp), so a second experiment on the same corpus and tokenizer
// reads no text at all.
// No torch, no MPI here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"
#include "mpitune/core/rng.hpp"

namespace mpitune {

class Tokenizer;

enum class SplitKind { Train = 0, Validation = 1, Test = 2 };
const char* split_name(SplitKind s);  // "train" | "validation" | "test"

struct TokenSplit {
  int64_t size = 0;                  // tokens in the stream
  const int32_t* ids = nullptr;      // size ids
  const uint8_t* loss_mask = nullptr;  // size flags, or null when every token counts
  int64_t documents = 0;
  const int64_t* doc_begin = nullptr;  // documents + 1 offsets into ids (the last one = size)
};

// A token file, memory-mapped read-only (MAP_SHARED: the ranks of a node share its pages). The
// TokenSplit pointers stay valid as long as the TokenCorpus lives.
class TokenCorpus {
 public:
  // Throws InfraError naming the file when it is missing, truncated, of another version or
  // inconsistent (sizes that do not add up to the file's, offsets that are not monotonic).
  static std::shared_ptr<const TokenCorpus> open(const std::string& path);
  virtual ~TokenCorpus() = default;

  virtual const TokenSplit& split(SplitKind s) const = 0;
  // The same, for its sizes and document counts only: not counted by token_split_accesses (the
  // checks of prepare_token_corpus use it; whoever reads tokens uses split()).
  virtual const TokenSplit& split_info(SplitKind s) const = 0;
  const TokenSplit& train() const { return split(SplitKind::Train); }
  const TokenSplit& validation() const { return split(SplitKind::Validation); }
  const TokenSplit& test() const { return split(SplitKind::Test); }
  virtual const std::string& path() const = 0;
  virtual const std::string& tokenizer_fingerprint() const = 0;
  virtual int64_t vocab_size() const = 0;  // of the tokenizer that made it
};

// How often TokenCorpus::split(s) has been called in this process, on any token file: the
// trainer reaches every token through it (split_info gives sizes without counting), so a test
// can check that the test split is never read during a search (only by the final evaluation).
int64_t token_split_accesses(SplitKind s);

struct PreparedCorpus {
  std::string path;          // the token file
  bool from_cache = false;   // it existed already
  double seconds = 0;        // spent reading, tokenizing and writing (0 from the cache)
  int64_t documents[3] = {0, 0, 0};  // per SplitKind
  int64_t tokens[3] = {0, 0, 0};
};

// The folder token files go to: data.cache_dir, or "<folder of experiment.output>/.token-cache"
// when it is empty ("./.token-cache" for an output without a folder). Pure: the folder is made
// by prepare_token_corpus.
std::string token_cache_dir(const ExperimentConfig& c);

// Rank 0, before any trial: the token file of the experiment's corpus, tokenized now (with all
// of this process's cores, and a progress line on stderr when it takes more than a few seconds
// and `progress` is set) or found in the cache. The file is written atomically (temp file,
// rename), so concurrent experiments on the same corpus are safe. Throws ConfigError naming the
// [data] key and the fix: a missing corpus, no documents, an empty split, a split smaller than
// one window of `min_window` tokens, a JSONL line without the field. The keys: data.corpus
// (missing, no documents, a single document to split, train too short), data.val_fraction /
// data.test_fraction (a split of data.corpus empty or too short), data.val_corpus /
// data.test_corpus (that corpus missing, empty or too short), data.text_field (JSONL). Throws
// InfraError when the cache folder cannot be made (naming it) or a file cannot be written.
// A cached file that no longer opens (truncated by a full disk, say) is tokenized again.
// A cache hit only lists and stats the corpus files (fortunes: under a millisecond), so the
// other ranks call this too, to find the file rank 0 made; a rank on a node that cannot see
// rank 0's cache folder makes the same file itself.
PreparedCorpus prepare_token_corpus(const DataOptions& data, const Tokenizer& tok,
                                    const std::string& cache_dir, int64_t min_window, bool progress);
// The same with `threads` tokenizing threads (0 = std::thread::hardware_concurrency(), what the
// form above uses). The file's bytes do not depend on it.
PreparedCorpus prepare_token_corpus(const DataOptions& data, const Tokenizer& tok,
                                    const std::string& cache_dir, int64_t min_window, bool progress,
                                    int threads);

// ---- windows: what the trainer draws batches from ----
// A window is `window` consecutive tokens of a split (seq_len + 1: the inputs and the targets
// shifted by one); window >= 2 and split.size >= window are checked (InfraError), as are row
// ranges and offsets.

// `count` window offsets drawn uniformly from [0, split.size - window] with `rng` (training).
std::vector<int64_t> draw_windows(Rng& rng, const TokenSplit& split, int64_t window, int64_t count);
// `count` offsets evenly spaced from 0 to split.size - window, both ends included (evaluation:
// the same windows for every trial).
std::vector<int64_t> spaced_windows(const TokenSplit& split, int64_t window, int64_t count);

// Rows [begin, end) of a batch of windows: inputs[r][j] = ids[o + j] and targets[r][j] =
// ids[o + 1 + j], or -100 (ignored) where the mask says the target does not count; each row has
// window - 1 positions, r counts from 0 at row `begin` (row-major, (end - begin) x (window - 1)
// values in each array). Returns the number of targets that count.
int64_t fill_batch(const TokenSplit& split, const std::vector<int64_t>& offsets, int64_t begin,
                   int64_t end, int64_t window, int64_t* inputs, int64_t* targets);
// Targets that count in the rows [begin, end) (cheap: reads only the mask).
int64_t count_targets(const TokenSplit& split, const std::vector<int64_t>& offsets, int64_t begin,
                      int64_t end, int64_t window);

// The rows [begin, end) of a global batch of `rows` that rank `rank` of `size` processes:
// [rank * rows / size, (rank + 1) * rows / size). `rows` must be a multiple of `size`.
// (train/data.hpp has the same struct and function until the trainer switches to this header:
// never include both in one file.)
struct RowRange {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t count() const { return end - begin; }
};
RowRange rank_rows(int64_t rows, int rank, int size);

}  // namespace mpitune
