// prepare_token_corpus end to end: exact streams and masks, val/test corpora, the cache (reuse,
// invalidation, damage, concurrent writers), thread-count independence and the error keys.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <thread>

#include "fake_tokenizers.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/data/split.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/data/token_file.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::byte_ids;
using testing::PairTokenizer;
using Ids = std::vector<int32_t>;

Ids ids_of(const TokenSplit& s) { return {s.ids, s.ids + s.size}; }
std::vector<uint8_t> mask_of(const TokenSplit& s) {
  return s.loss_mask ? std::vector<uint8_t>(s.loss_mask, s.loss_mask + s.size) : std::vector<uint8_t>{};
}
std::vector<int64_t> begins_of(const TokenSplit& s) { return {s.doc_begin, s.doc_begin + s.documents + 1}; }

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.push_back(e->d_name);
    ::closedir(d);
  }
  return out;
}

std::string file_name(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

void set_mtime(const std::string& path, int64_t sec, int64_t nsec) {
  struct timespec times[2];
  times[0].tv_sec = sec;
  times[0].tv_nsec = nsec;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

class Prepare : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir(dir_.file("corpus").c_str(), 0755), 0);
    data_.corpus = dir_.file("corpus");
    data_.document_separator = "%";
    data_.val_fraction = 0.25;
    cache_ = dir_.file("cache");
  }
  std::string corpus_file(const std::string& name) const { return dir_.file("corpus/" + name); }
  PreparedCorpus prepare(const Tokenizer& tok, int64_t min_window = 1, int threads = 2) const {
    return prepare_token_corpus(data_, tok, cache_, min_window, false, threads);
  }
  // The ConfigError's field of a prepare that must fail.
  std::string error_key(const Tokenizer& tok, int64_t min_window = 1, std::string* what = nullptr) const {
    try {
      prepare(tok, min_window);
    } catch (const ConfigError& e) {
      if (what) *what = e.what();
      return e.field();
    }
    return "(no error)";
  }

  testing::TempDir dir_;
  DataOptions data_;
  std::string cache_;
};

TEST_F(Prepare, FortuneFolderWithByteTokenizerGivesTheSplitDocumentsInCorpusOrder) {
  testing::write_file(corpus_file("a"), "one\n%\ntwo\n%\n");
  testing::write_file(corpus_file("b"), "three\n%\nfour\n");
  testing::write_file(corpus_file("b.dat"), "index bytes");
  ASSERT_EQ(::symlink("b", corpus_file("b.u8").c_str()), 0);
  const auto tok = make_byte_tokenizer();
  const PreparedCorpus p = prepare(*tok);
  EXPECT_FALSE(p.from_cache);
  const std::vector<std::string> docs = {"one\n", "two\n", "three\n", "four\n"};
  const auto split = split_documents(4, 0.25, 0, data_.split_seed);  // 1 validation document
  ASSERT_EQ(split[1].size(), 1u);
  const auto corpus = TokenCorpus::open(p.path);
  for (int s = 0; s < 3; ++s) {
    Ids expected;
    std::vector<int64_t> begins = {0};
    for (int64_t i : split[s]) {
      const Ids d = byte_ids(docs[static_cast<size_t>(i)]);  // bytes: no BOS, no EOS
      expected.insert(expected.end(), d.begin(), d.end());
      begins.push_back(static_cast<int64_t>(expected.size()));
    }
    const TokenSplit& got = corpus->split(static_cast<SplitKind>(s));
    EXPECT_EQ(ids_of(got), expected) << split_name(static_cast<SplitKind>(s));
    EXPECT_EQ(begins_of(got), begins);
    EXPECT_EQ(got.loss_mask, nullptr);
    EXPECT_EQ(p.documents[s], static_cast<int64_t>(split[s].size()));
    EXPECT_EQ(p.tokens[s], static_cast<int64_t>(expected.size()));
  }
  EXPECT_EQ(corpus->vocab_size(), 256);
  EXPECT_EQ(corpus->tokenizer_fingerprint(), tok->fingerprint());
}

TEST_F(Prepare, BosAndEosAroundEveryDocument) {
  testing::write_file(corpus_file("t"), "ab\n%\nc\n");
  data_.val_corpus = dir_.file("val.txt");
  testing::write_file(data_.val_corpus, "zab");
  PairTokenizer tok;
  const auto corpus = TokenCorpus::open(prepare(tok).path);
  const Ids train = {298, PairTokenizer::kAb, '\n', 299, 298, 'c', '\n', 299};
  EXPECT_EQ(ids_of(corpus->train()), train);
  EXPECT_EQ(begins_of(corpus->train()), (std::vector<int64_t>{0, 4, 8}));
  EXPECT_EQ(ids_of(corpus->validation()), (Ids{298, 'z', PairTokenizer::kAb, 299}));
  EXPECT_EQ(corpus->vocab_size(), 300);
}

TEST_F(Prepare, JsonlPromptCompletionMasksWithTheByteTokenizer) {
  testing::write_file(corpus_file("d.jsonl"),
                      "{\"prompt\": \"Q\", \"completion\": \"A\"}\n"
                      "{\"text\": \"hi\"}\n");
  data_.val_corpus = dir_.file("val.txt");
  testing::write_file(data_.val_corpus, "v");
  const auto tok = make_byte_tokenizer();
  const auto corpus = TokenCorpus::open(prepare(*tok).path);
  EXPECT_EQ(ids_of(corpus->train()), (Ids{'Q', 'A', 'h', 'i'}));
  EXPECT_EQ(mask_of(corpus->train()), (std::vector<uint8_t>{0, 1, 1, 1}));
  EXPECT_EQ(corpus->validation().loss_mask, nullptr);  // plain text only: no mask stored
}

TEST_F(Prepare, JsonlPromptCompletionMasksWithBosEosAndSeparateEncodes) {
  // "xa" + "b" as one text would encode "ab" as one token; encoded apart, the prompt ends on a
  // token boundary.
  testing::write_file(corpus_file("d.jsonl"), "{\"prompt\": \"xa\", \"completion\": \"b\"}\n{\"text\": \"ab\"}\n");
  data_.val_corpus = dir_.file("val.txt");
  testing::write_file(data_.val_corpus, "v");
  PairTokenizer tok;
  const auto corpus = TokenCorpus::open(prepare(tok).path);
  EXPECT_EQ(ids_of(corpus->train()), (Ids{298, 'x', 'a', 'b', 299, 298, PairTokenizer::kAb, 299}));
  EXPECT_EQ(mask_of(corpus->train()), (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 1, 1}));
}

TEST_F(Prepare, ValAndTestCorporaLeaveTheWholeCorpusToTraining) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n");
  data_.val_corpus = dir_.file("val");
  data_.test_corpus = dir_.file("test.txt");
  ASSERT_EQ(::mkdir(data_.val_corpus.c_str(), 0755), 0);
  testing::write_file(data_.val_corpus + "/1", "v1\n%\nv2\n");
  testing::write_file(data_.test_corpus, "t1\n");
  data_.test_fraction = 0.5;  // ignored: test comes from test_corpus
  const auto tok = make_byte_tokenizer();
  const PreparedCorpus p = prepare(*tok);
  EXPECT_EQ(p.documents[0], 3);
  EXPECT_EQ(p.documents[1], 2);
  EXPECT_EQ(p.documents[2], 1);
  const auto corpus = TokenCorpus::open(p.path);
  EXPECT_EQ(ids_of(corpus->train()), byte_ids("a\nb\nc\n"));
  EXPECT_EQ(ids_of(corpus->validation()), byte_ids("v1\nv2\n"));
  EXPECT_EQ(ids_of(corpus->test()), byte_ids("t1\n"));
}

TEST_F(Prepare, TestFractionSplitsTheCorpusToo) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "doc " + std::to_string(i) + "\n%\n";
  testing::write_file(corpus_file("t"), text);
  data_.val_fraction = 0.1;
  data_.test_fraction = 0.2;
  const auto tok = make_byte_tokenizer();
  const PreparedCorpus p = prepare(*tok);
  EXPECT_EQ(p.documents[0], 14);
  EXPECT_EQ(p.documents[1], 2);
  EXPECT_EQ(p.documents[2], 4);
}

// The documents of a split, cut out of its stream by doc_begin.
std::vector<std::string> documents_of(const TokenSplit& s) {
  std::vector<std::string> out;
  for (int64_t d = 0; d < s.documents; ++d) {
    std::string text;
    for (int64_t i = s.doc_begin[d]; i < s.doc_begin[d + 1]; ++i) text.push_back(static_cast<char>(s.ids[i]));
    out.push_back(text);
  }
  return out;
}

TEST_F(Prepare, EveryDocumentInExactlyOneSplitInCorpusOrderAndTheSeedDecides) {
  std::vector<std::string> docs;
  std::string text;
  for (int i = 0; i < 60; ++i) {
    docs.push_back("fortune " + std::to_string(100 + i) + "\n");  // sorted like the corpus
    text += docs.back() + "%\n";
  }
  testing::write_file(corpus_file("t"), text);
  data_.val_fraction = 0.2;
  data_.test_fraction = 0.1;
  const auto tok = make_byte_tokenizer();
  auto splits_with_seed = [&](uint64_t seed) {
    data_.split_seed = seed;
    const auto corpus = TokenCorpus::open(prepare(*tok).path);
    std::array<std::vector<std::string>, 3> out;
    for (int s = 0; s < 3; ++s) out[s] = documents_of(corpus->split(static_cast<SplitKind>(s)));
    return out;
  };
  const auto a = splits_with_seed(0);
  EXPECT_EQ(a[0].size(), 42u);
  EXPECT_EQ(a[1].size(), 12u);
  EXPECT_EQ(a[2].size(), 6u);
  std::vector<std::string> all;
  for (const auto& s : a) {
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));  // corpus order within a split
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, docs);  // each document once: no two splits share one, none is lost
  EXPECT_EQ(splits_with_seed(0), a);  // same seed, same split (from the cache, too)
  EXPECT_NE(splits_with_seed(5)[1], a[1]);
}

TEST_F(Prepare, SecondPrepareComesFromTheCacheWithoutTokenizing) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n%\nd\n");
  PairTokenizer tok;
  const PreparedCorpus first = prepare(tok);
  const int64_t calls = tok.encode_calls.load();
  EXPECT_GT(calls, 0);
  EXPECT_FALSE(first.from_cache);
  const PreparedCorpus second = prepare(tok);
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.path, first.path);
  EXPECT_EQ(second.seconds, 0);
  EXPECT_EQ(tok.encode_calls.load(), calls);  // nothing tokenized
  for (int s = 0; s < 3; ++s) {
    EXPECT_EQ(second.documents[s], first.documents[s]);
    EXPECT_EQ(second.tokens[s], first.tokens[s]);
  }
  EXPECT_EQ(file_name(first.path).substr(0, 7), "tokens-");
  EXPECT_EQ(entries(cache_), std::vector<std::string>{file_name(first.path)});
}

TEST_F(Prepare, AnythingThatChangesTheFileChangesTheKey) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n%\nd\n");
  set_mtime(corpus_file("t"), 1700000000, 100);
  PairTokenizer tok;
  const std::string base = prepare(tok).path;
  auto changed = [&](const char* what) {
    const PreparedCorpus p = prepare(tok);
    EXPECT_NE(p.path, base) << what;
    EXPECT_FALSE(p.from_cache) << what;
  };
  set_mtime(corpus_file("t"), 1700000000, 101);  // touched: one nanosecond later
  changed("mtime");
  set_mtime(corpus_file("t"), 1700000000, 100);
  EXPECT_EQ(prepare(tok).path, base);  // back to the same stamp: the same file again

  PairTokenizer other("pair-v2");
  EXPECT_NE(prepare(other).path, base);
  DataOptions saved = data_;
  data_.split_seed = 1;
  changed("split_seed");
  data_ = saved;
  data_.val_fraction = 0.5;
  changed("val_fraction");
  data_ = saved;
  data_.document_separator = "line";
  changed("document_separator");
  data_ = saved;
  testing::write_file(corpus_file("u"), "e\n");
  changed("a new file");
  ::unlink(corpus_file("u").c_str());
  // What does not change the file's bytes does not change its name.
  data_.eval_batches = 99;
  EXPECT_EQ(prepare(tok).path, base);
  data_ = saved;
}

TEST_F(Prepare, FileIsIdenticalForOneAndManyThreads) {
  // Enough documents of varied lengths for many chunks per thread, plain and prompted.
  std::string text, jsonl;
  for (int i = 0; i < 3000; ++i) {
    text += std::string(static_cast<size_t>(1 + (i * 7919) % 97), static_cast<char>('a' + i % 26)) + "\n%\n";
    if (i % 3 == 0) jsonl += "{\"prompt\": \"p" + std::to_string(i) + "a\", \"completion\": \"b" + std::to_string(i) + "\"}\n";
  }
  testing::write_file(corpus_file("t"), text);
  testing::write_file(corpus_file("u.jsonl"), jsonl);
  data_.val_fraction = 0.1;
  data_.test_fraction = 0.1;
  PairTokenizer tok;
  const PreparedCorpus one = prepare_token_corpus(data_, tok, dir_.file("c1"), 8, false, 1);
  const PreparedCorpus many = prepare_token_corpus(data_, tok, dir_.file("c8"), 8, false, 8);
  EXPECT_EQ(file_name(one.path), file_name(many.path));
  EXPECT_EQ(one.documents[0] + one.documents[1] + one.documents[2], 4000);
  const std::string a = testing::read_file(one.path);
  EXPECT_TRUE(a == testing::read_file(many.path)) << "the files differ";
  EXPECT_NE(TokenCorpus::open(one.path)->train().loss_mask, nullptr);
}

TEST_F(Prepare, ConcurrentWritersOfOneKeyLeaveOneCompleteFile) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "document " + std::to_string(i) + "\n%\n";
  testing::write_file(corpus_file("t"), text);
  const auto tok = make_byte_tokenizer();
  PreparedCorpus a, b;
  std::thread other([&]() { a = prepare(*tok, 1, 1); });
  b = prepare(*tok, 1, 1);
  other.join();
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(entries(cache_), std::vector<std::string>{file_name(a.path)});
  EXPECT_EQ(TokenCorpus::open(a.path)->train().documents, 1500);  // val_fraction 0.25
}

TEST_F(Prepare, DamagedCacheFileIsMadeAgain) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n%\nd\n");
  const auto tok = make_byte_tokenizer();
  const PreparedCorpus first = prepare(*tok);
  const std::string whole = testing::read_file(first.path);
  testing::write_file(first.path, whole.substr(0, whole.size() / 2));
  const PreparedCorpus again = prepare(*tok);
  EXPECT_FALSE(again.from_cache);
  EXPECT_EQ(testing::read_file(again.path), whole);
  // A complete file under the key whose tokenizer is another one: made again too.
  TokenizedDocument doc;
  doc.ids = {1, 2};
  TokenFileContents foreign;
  foreign.vocab_size = 256;
  foreign.fingerprint = "someone else's";
  foreign.splits = {std::vector<const TokenizedDocument*>{&doc}, {&doc}, {}};
  write_token_file(first.path, foreign);
  EXPECT_FALSE(prepare(*tok).from_cache);
  EXPECT_EQ(testing::read_file(first.path), whole);
}

TEST_F(Prepare, MakesNestedCacheFoldersAndNamesOneItCannotMake) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n%\nd\n");
  const auto tok = make_byte_tokenizer();
  cache_ = dir_.file("x/y/z");
  EXPECT_EQ(TokenCorpus::open(prepare(*tok).path)->train().documents, 3);
  testing::write_file(dir_.file("plain-file"), "");
  cache_ = dir_.file("plain-file/sub");
  try {
    prepare(*tok);
    FAIL() << "no error";
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find(dir_.file("plain-file")), std::string::npos) << e.what();
  }
}

TEST_F(Prepare, ProgressEndsWithATotalsLine) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n%\nd\n");
  const auto tok = make_byte_tokenizer();
  ::testing::internal::CaptureStderr();
  prepare_token_corpus(data_, *tok, cache_, 1, true, 2);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("mpitune: tokenized " + data_.corpus + ": 4 documents, 8 tokens in "), std::string::npos) << err;
}

TEST_F(Prepare, TokenizerErrorsReachTheCaller) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nboom\n%\nd\n");
  EXPECT_THROW(prepare(testing::OutOfRangeTokenizer()), InfraError);
  try {
    prepare(testing::ThrowingTokenizer());
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot tokenize boom");
  }
  EXPECT_TRUE(entries(cache_).empty());  // nothing half-written left behind
}

// ---- the error keys ----

TEST_F(Prepare, MissingOrEmptyCorpusNamesDataCorpus) {
  const auto tok = make_byte_tokenizer();
  data_.corpus = dir_.file("nope");
  EXPECT_EQ(error_key(*tok), "data.corpus");
  data_.corpus = dir_.file("corpus");
  testing::write_file(corpus_file("t"), "%\n  \n%\n");
  std::string what;
  EXPECT_EQ(error_key(*tok, 1, &what), "data.corpus");
  EXPECT_NE(what.find("no documents"), std::string::npos) << what;
}

TEST_F(Prepare, SingleDocumentNamesDataCorpusAndTheSeparator) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n");
  data_.document_separator = "";
  std::string what;
  EXPECT_EQ(error_key(*make_byte_tokenizer(), 1, &what), "data.corpus");
  EXPECT_NE(what.find("document_separator"), std::string::npos) << what;
  EXPECT_NE(what.find("val_corpus"), std::string::npos) << what;
}

TEST_F(Prepare, ValidationRoundingToNothingNamesValFraction) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n%\nd\n");
  data_.val_fraction = 0.1;  // 0.4 documents
  std::string what;
  EXPECT_EQ(error_key(*make_byte_tokenizer(), 1, &what), "data.val_fraction");
  EXPECT_NE(what.find("at least 0.125"), std::string::npos) << what;
  EXPECT_NE(what.find("4 documents"), std::string::npos) << what;
}

TEST_F(Prepare, ShortSplitsNameTheirKeys) {
  std::string text;
  for (int i = 0; i < 8; ++i) text += "long document number " + std::to_string(i) + "\n%\n";
  text += "x\n";  // 2 bytes
  testing::write_file(corpus_file("t"), text);
  const auto tok = make_byte_tokenizer();
  data_.val_fraction = 0.1;  // 1 of 9
  // The validation document drawn is one of them; a window longer than every document fails
  // it whichever it is, and leaves the training split (8 documents) long enough.
  std::string what;
  EXPECT_EQ(error_key(*tok, 30, &what), "data.val_fraction");
  EXPECT_NE(what.find("fewer than one window of 30 tokens"), std::string::npos) << what;
  // Training shorter than a window: data.corpus.
  EXPECT_EQ(error_key(*tok, 1000), "data.corpus");

  data_.val_corpus = dir_.file("val.txt");
  testing::write_file(data_.val_corpus, "tiny");
  EXPECT_EQ(error_key(*tok, 10), "data.val_corpus");
  data_.test_corpus = dir_.file("test.txt");
  testing::write_file(data_.test_corpus, "tin");
  EXPECT_EQ(error_key(*tok, 4), "data.test_corpus");  // validation's 4 tokens are one window
}

TEST_F(Prepare, EmptyValOrTestCorporaNameTheirKeys) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n%\nd\n");
  const auto tok = make_byte_tokenizer();
  data_.val_corpus = dir_.file("missing.txt");
  EXPECT_EQ(error_key(*tok), "data.val_corpus");
  testing::write_file(data_.val_corpus, "\n\n");
  EXPECT_EQ(error_key(*tok), "data.val_corpus");
  data_.val_corpus.clear();
  data_.test_corpus = dir_.file("t.txt");
  testing::write_file(data_.test_corpus, " ");
  EXPECT_EQ(error_key(*tok), "data.test_corpus");
}

TEST_F(Prepare, TestFractionRoundingToNothingNamesTestFraction) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n%\nc\n%\nd\n");
  data_.test_fraction = 0.05;
  EXPECT_EQ(error_key(*make_byte_tokenizer()), "data.test_fraction");
}

TEST_F(Prepare, NoTrainingDocumentLeftNamesTheFraction) {
  testing::write_file(corpus_file("t"), "a\n%\nb\n");
  data_.val_fraction = 0.5;
  data_.test_fraction = 0.5;
  std::string what;
  EXPECT_EQ(error_key(*make_byte_tokenizer(), 1, &what), "data.val_fraction");
  EXPECT_NE(what.find("no training document"), std::string::npos) << what;
}

TEST_F(Prepare, JsonlLineWithoutTheFieldNamesTextField) {
  testing::write_file(corpus_file("d.jsonl"), "{\"text\": \"a\"}\n{\"body\": \"b\"}\n");
  std::string what;
  EXPECT_EQ(error_key(*make_byte_tokenizer(), 1, &what), "data.text_field");
  EXPECT_NE(what.find("d.jsonl' line 2"), std::string::npos) << what;
}

TEST(TokenCacheDir, NextToTheOutputUnlessSet) {
  ExperimentConfig c;
  c.experiment.name = "x";
  c.experiment.output = "results/{name}.h5";
  EXPECT_EQ(token_cache_dir(c), "results/.token-cache");
  c.experiment.output = "x.h5";
  EXPECT_EQ(token_cache_dir(c), "./.token-cache");
  c.experiment.output = "/abs/out/{name}.h5";
  EXPECT_EQ(token_cache_dir(c), "/abs/out/.token-cache");
  c.data.cache_dir = "/scratch/tokens";
  EXPECT_EQ(token_cache_dir(c), "/scratch/tokens");
}

}  // namespace
}  // namespace mpitune
