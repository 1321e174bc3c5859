// prepare_token_corpus: the experiment's token file, found in the cache or made now
// (see token_corpus.hpp). The order is chosen so that a cache hit reads no text: the corpus
// files are listed and stat'ed, which gives the key; only a miss reads, splits, tokenizes and
// writes. The split checks on document counts run before tokenizing (a wrong fraction fails in
// milliseconds); the checks on token counts run on the opened file, for a hit as for a miss.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/data/cache_key.hpp"
#include "mpitune/data/documents.hpp"
#include "mpitune/data/progress.hpp"
#include "mpitune/data/split.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/data/token_file.hpp"
#include "mpitune/data/tokenize_documents.hpp"
#include "mpitune/tokenize/tokenizer.hpp"

namespace mpitune {
namespace {

constexpr const char* kSeparatorHint =
    "cut the files into documents with data.document_separator (% for fortune files, blank, line)";

struct Source {
  std::string key;   // data.corpus | data.val_corpus | data.test_corpus
  std::string path;
  std::vector<std::string> files;
};

std::string fraction_text(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", f);
  return buf;
}

// The smallest fraction (3 decimals, rounded up) that gives one document of n.
std::string fraction_for_one(int64_t n) {
  const double f = std::ceil(500.0 / static_cast<double>(n)) / 1000.0;
  return fraction_text(f);
}

// Where each split's documents come from, for the error messages.
struct SplitPlan {
  bool val_from_corpus = true;
  bool test_from_corpus = true;
  bool test_requested = false;
};

SplitPlan plan_of(const DataOptions& d) {
  SplitPlan p;
  p.val_from_corpus = d.val_corpus.empty();
  p.test_from_corpus = d.test_corpus.empty();
  p.test_requested = !d.test_corpus.empty() || d.test_fraction > 0;
  return p;
}

void check_document_counts(const DataOptions& d, const SplitPlan& plan, int64_t corpus_docs, int64_t val_docs,
                           int64_t test_docs, const SplitCounts& counts, size_t corpus_files) {
  if (corpus_docs == 0)
    throw ConfigError("data.corpus",
                      "no documents in '" + d.corpus + "' (" + std::to_string(corpus_files) +
                          " files read; documents of whitespace only are dropped)",
                      "point it at files with text, or check data.extensions and data.document_separator");
  if (plan.val_from_corpus) {
    if (corpus_docs == 1)
      throw ConfigError("data.corpus",
                        "'" + d.corpus + "' is a single document, which cannot be split into training and validation",
                        std::string(kSeparatorHint) + ", or give data.val_corpus");
    if (counts.validation == 0)
      throw ConfigError("data.val_fraction",
                        fraction_text(d.val_fraction) + " of the " + std::to_string(corpus_docs) + " documents of '" +
                            d.corpus + "' rounds to no validation document",
                        "raise data.val_fraction to at least " + fraction_for_one(corpus_docs) + ", " +
                            kSeparatorHint + ", or give data.val_corpus");
  } else if (val_docs == 0) {
    throw ConfigError("data.val_corpus", "no documents in '" + d.val_corpus + "'",
                      "point it at files with text, or check data.extensions and data.document_separator");
  }
  if (plan.test_requested) {
    if (plan.test_from_corpus && counts.test == 0)
      throw ConfigError("data.test_fraction",
                        fraction_text(d.test_fraction) + " of the " + std::to_string(corpus_docs) +
                            " documents of '" + d.corpus + "' rounds to no test document",
                        "raise data.test_fraction to at least " + fraction_for_one(corpus_docs) + ", " +
                            kSeparatorHint + ", give data.test_corpus, or set data.test_fraction = 0");
    if (!plan.test_from_corpus && test_docs == 0)
      throw ConfigError("data.test_corpus", "no documents in '" + d.test_corpus + "'",
                        "point it at files with text, or check data.extensions and data.document_separator");
  }
  if (counts.train == 0)
    throw ConfigError(plan.val_from_corpus ? "data.val_fraction" : "data.test_fraction",
                      "data.val_fraction = " + fraction_text(plan.val_from_corpus ? d.val_fraction : 0) +
                          " and data.test_fraction = " + fraction_text(plan.test_from_corpus ? d.test_fraction : 0) +
                          " of the " + std::to_string(corpus_docs) + " documents of '" + d.corpus +
                          "' leave no training document",
                      "lower them, " + std::string(kSeparatorHint) + ", or give data.val_corpus / data.test_corpus");
}

void check_token_counts(const DataOptions& d, const SplitPlan& plan, const TokenCorpus& corpus, int64_t min_window) {
  auto too_short = [&](const TokenSplit& s, const char* name) {
    return std::string("the ") + name + " split has " + std::to_string(s.size) + " tokens (" +
           std::to_string(s.documents) + " documents), fewer than one window of " + std::to_string(min_window) +
           " tokens";
  };
  if (corpus.split_info(SplitKind::Train).size < min_window)
    throw ConfigError("data.corpus", too_short(corpus.split_info(SplitKind::Train), "training") + " from '" + d.corpus + "'",
                      "use a larger corpus or a shorter model.seq_len");
  if (corpus.split_info(SplitKind::Validation).size < min_window) {
    if (plan.val_from_corpus)
      throw ConfigError("data.val_fraction", too_short(corpus.split_info(SplitKind::Validation), "validation"),
                        "raise data.val_fraction, " + std::string(kSeparatorHint) +
                            " (more, shorter documents), give data.val_corpus, or use a shorter model.seq_len");
    throw ConfigError("data.val_corpus", too_short(corpus.split_info(SplitKind::Validation), "validation") + " from '" + d.val_corpus + "'",
                      "give a larger data.val_corpus or use a shorter model.seq_len");
  }
  if (plan.test_requested && corpus.split_info(SplitKind::Test).size < min_window) {
    if (plan.test_from_corpus)
      throw ConfigError("data.test_fraction", too_short(corpus.split_info(SplitKind::Test), "test"),
                        "raise data.test_fraction, give data.test_corpus, or use a shorter model.seq_len");
    throw ConfigError("data.test_corpus", too_short(corpus.split_info(SplitKind::Test), "test") + " from '" + d.test_corpus + "'",
                      "give a larger data.test_corpus or use a shorter model.seq_len");
  }
}

void fill_counts(PreparedCorpus& out, const TokenCorpus& corpus) {
  for (int s = 0; s < 3; ++s) {
    out.documents[s] = corpus.split_info(static_cast<SplitKind>(s)).documents;
    out.tokens[s] = corpus.split_info(static_cast<SplitKind>(s)).size;
  }
}

// Reads, splits and tokenizes every source, and writes the token file to `path`.
void build_token_file(const DataOptions& data, const Tokenizer& tok, const std::vector<Source>& sources,
                      const SplitPlan& plan, const std::string& path, bool progress, int threads) {
  // Started before reading, so its quiet first seconds and its final time cover the whole work.
  ProgressMeter meter(data.corpus, 0, progress);
  std::vector<Document> docs;
  int64_t per_source[3] = {0, 0, 0};  // documents of corpus, val_corpus, test_corpus
  for (const auto& s : sources) {
    auto part = read_documents(s.files, data, s.key);
    const int slot = s.key == "data.corpus" ? 0 : s.key == "data.val_corpus" ? 1 : 2;
    per_source[slot] = static_cast<int64_t>(part.size());
    docs.insert(docs.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  const int64_t n = per_source[0];
  const double val_fraction = plan.val_from_corpus ? data.val_fraction : 0;
  const double test_fraction = plan.test_from_corpus ? data.test_fraction : 0;
  const SplitCounts counts = split_counts(n, val_fraction, test_fraction);
  check_document_counts(data, plan, n, per_source[1], per_source[2], counts, sources.front().files.size());
  const auto split = split_documents(n, val_fraction, test_fraction, data.split_seed);

  meter.set_total(static_cast<int64_t>(docs.size()));
  const auto tokenized = tokenize_documents(docs, tok, threads, [&meter](int64_t done, int64_t tokens) {
    meter.update(done, tokens);
  });

  TokenFileContents contents;
  contents.vocab_size = tok.vocab_size();
  contents.fingerprint = tok.fingerprint();
  for (int s = 0; s < 3; ++s)
    for (int64_t i : split[s]) contents.splits[s].push_back(&tokenized[static_cast<size_t>(i)]);
  // The documents of val_corpus, then of test_corpus, follow the corpus's in `docs` (sources
  // are listed in that order), each in its own corpus order.
  int64_t next = n;
  for (int s = 1; s < 3; ++s)
    for (int64_t i = 0; i < per_source[s]; ++i) contents.splits[s].push_back(&tokenized[static_cast<size_t>(next++)]);
  write_token_file(path, contents);

  int64_t total_tokens = 0;
  for (const auto& t : tokenized) total_tokens += static_cast<int64_t>(t.ids.size());
  meter.finish(static_cast<int64_t>(tokenized.size()), total_tokens);
}

}  // namespace

PreparedCorpus prepare_token_corpus(const DataOptions& data, const Tokenizer& tok, const std::string& cache_dir,
                                    int64_t min_window, bool progress) {
  return prepare_token_corpus(data, tok, cache_dir, min_window, progress, 0);
}

PreparedCorpus prepare_token_corpus(const DataOptions& data, const Tokenizer& tok, const std::string& cache_dir,
                                    int64_t min_window, bool progress, int threads) {
  MPITUNE_CHECK(min_window >= 1, "a window needs at least one token");
  const auto start = std::chrono::steady_clock::now();
  const SplitPlan plan = plan_of(data);

  // The files of every source: cheap, and all the cache key needs besides the options.
  std::vector<Source> sources;
  sources.push_back({"data.corpus", data.corpus, {}});
  if (!data.val_corpus.empty()) sources.push_back({"data.val_corpus", data.val_corpus, {}});
  if (!data.test_corpus.empty()) sources.push_back({"data.test_corpus", data.test_corpus, {}});
  std::vector<CorpusFileStamp> stamps;
  for (auto& s : sources) {
    s.files = list_corpus_files(s.path, data.extensions, corpus_exclude(data, s.key), s.key);
    for (const auto& f : s.files) stamps.push_back(stamp_corpus_file(s.key, f));
  }

  const std::string folder = cache_dir.empty() ? "." : cache_dir;
  make_dirs(folder);
  PreparedCorpus out;
  out.path = token_file_path(folder, token_cache_key(data, tok, stamps));

  std::shared_ptr<const TokenCorpus> corpus;
  if (file_exists(out.path)) {
    try {
      corpus = TokenCorpus::open(out.path);
      // The key hashes the fingerprint, so a mismatch means a damaged (or hand-made) file.
      if (corpus->tokenizer_fingerprint() != tok.fingerprint() || corpus->vocab_size() != tok.vocab_size())
        corpus.reset();
    } catch (const InfraError&) {
      corpus.reset();  // damaged (truncated by a full disk, say): make it again
    }
    out.from_cache = corpus != nullptr;
  }
  if (!corpus) {
    build_token_file(data, tok, sources, plan, out.path, progress, threads);
    corpus = TokenCorpus::open(out.path);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  fill_counts(out, *corpus);
  check_token_counts(data, plan, *corpus, min_window);
  return out;
}

}  // namespace mpitune
