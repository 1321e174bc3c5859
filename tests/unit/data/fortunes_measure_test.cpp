// A measurement, printed and not asserted: how long the default corpus (the Debian fortunes,
// cut at "%" lines) takes to read, split, tokenize with the byte tokenizer and write, on all
// cores and on one, and how long a cache hit takes. The assertions only check that the corpus
// was read as fortunes (many documents, the cache hit) so the printed figures mean something.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "mpitune/data/token_corpus.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(FortunesMeasurement, WholeCorpusWithTheByteTokenizer) {
  DataOptions data;  // the defaults: corpus = /usr/share/games/fortunes, val_fraction 0.1
  data.document_separator = "%";
  const auto tok = make_byte_tokenizer();
  testing::TempDir cache;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  const auto t0 = std::chrono::steady_clock::now();
  const PreparedCorpus all = prepare_token_corpus(data, *tok, cache.file("all"), 65, false, 0);
  const double all_s = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  const PreparedCorpus one = prepare_token_corpus(data, *tok, cache.file("one"), 65, false, 1);
  const double one_s = seconds_since(t1);
  const auto t2 = std::chrono::steady_clock::now();
  const PreparedCorpus hit = prepare_token_corpus(data, *tok, cache.file("all"), 65, false, 0);
  const double hit_s = seconds_since(t2);

  const int64_t docs = all.documents[0] + all.documents[1] + all.documents[2];
  const int64_t tokens = all.tokens[0] + all.tokens[1] + all.tokens[2];
  std::printf("fortunes (%s, separator %%, bytes): %lld documents (train %lld, validation %lld), "
              "%lld tokens (train %lld, validation %lld)\n",
              data.corpus.c_str(), static_cast<long long>(docs), static_cast<long long>(all.documents[0]),
              static_cast<long long>(all.documents[1]), static_cast<long long>(tokens),
              static_cast<long long>(all.tokens[0]), static_cast<long long>(all.tokens[1]));
  std::printf("prepare: %.3f s on %u threads (%.1f M tokens/s), %.3f s on 1 thread, cache hit %.4f s\n", all_s, cores,
              static_cast<double>(tokens) / all_s / 1e6, one_s, hit_s);

  EXPECT_GT(docs, 1000);  // cut at "%": thousands of fortunes, not ~60 files
  EXPECT_EQ(one.tokens[0], all.tokens[0]);
  EXPECT_FALSE(all.from_cache);
  EXPECT_TRUE(hit.from_cache);
}

}  // namespace
}  // namespace mpitune
