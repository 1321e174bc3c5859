// Corpus listing, the per-file train/validation split, window sampling, rank rows and the
// machine checks of validate_gpt_config.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "mpitune/core/error.hpp"
#include "mpitune/train/data.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_config.hpp"
#include "support/temp_dir.hpp"
#include "train_test_config.hpp"

namespace mpitune {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(CorpusFiles, FolderGivesRegularFilesByNameWithoutLinksOrDat) {
  TempDir dir;
  write_file(dir.file("b"), "bbbb");
  write_file(dir.file("a"), "aaaa");
  write_file(dir.file("a.dat"), "index");
  std::filesystem::create_symlink(dir.file("a"), dir.file("a.u8"));
  std::filesystem::create_directory(dir.file("sub"));
  write_file(dir.file("sub/c"), "cccc");
  EXPECT_EQ(corpus_files(dir.path()), (std::vector<std::string>{dir.file("a"), dir.file("b")}));
  EXPECT_EQ(corpus_files(dir.file("b")), std::vector<std::string>{dir.file("b")});
}

TEST(CorpusFiles, MissingPathIsAConfigErrorNamingTheFix) {
  try {
    corpus_files("/no/such/corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.corpus");
    EXPECT_NE(std::string(e.what()).find("'/no/such/corpus' does not exist"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("fortunes"), std::string::npos);
  }
}

TEST(Corpus, LastFractionOfEachFileIsValidation) {
  TempDir dir;
  write_file(dir.file("1"), "0123456789");
  write_file(dir.file("2"), "abcdefghijklmnopqrst");
  const Corpus c = Corpus::load(dir.path(), 0.3);
  EXPECT_EQ(c.train(), "0123456abcdefghijklmn");
  EXPECT_EQ(c.validation(), "789opqrst");
  const SplitSizes sizes = split_sizes(corpus_files(dir.path()), 0.3);
  EXPECT_EQ(sizes.train, 21);
  EXPECT_EQ(sizes.validation, 9);
}

TEST(Corpus, NoWindowOfOneSplitTouchesTheOther) {
  // Each file is 'T' bytes followed by exactly its held-out share of 'V' bytes.
  std::vector<std::string> texts;
  for (int n : {200, 350, 90}) {
    const int held = static_cast<int>(held_out_bytes(n, 0.2));
    texts.push_back(std::string(n - held, 'T') + std::string(held, 'V'));
  }
  const Corpus c = Corpus::from_texts(texts, 0.2);
  const int64_t window = 17;
  Rng rng(3);
  const auto train = draw_windows(rng, c.train().size(), window, 500);
  const auto train_bytes = read_windows(c.train(), train, 0, 500, window);
  EXPECT_TRUE(std::all_of(train_bytes.begin(), train_bytes.end(), [](uint8_t b) { return b == 'T'; }));
  const auto val = spaced_windows(c.validation().size(), window, 40);
  const auto val_bytes = read_windows(c.validation(), val, 0, 40, window);
  EXPECT_TRUE(std::all_of(val_bytes.begin(), val_bytes.end(), [](uint8_t b) { return b == 'V'; }));
  EXPECT_EQ(static_cast<int64_t>(c.validation().size()), 40 + 70 + 18);
}

TEST(Windows, DrawnOffsetsAreSeededInRangeAndResumable) {
  Rng a(42), b(42), c(43);
  const auto first = draw_windows(a, 100, 10, 1000);
  EXPECT_EQ(first, draw_windows(b, 100, 10, 1000));
  EXPECT_NE(first, draw_windows(c, 100, 10, 1000));
  const auto [lo, hi] = std::minmax_element(first.begin(), first.end());
  EXPECT_EQ(*lo, 0);   // 1000 draws from 91 values reach both ends
  EXPECT_EQ(*hi, 90);
  // The Rng state is the data position: restoring it replays the next batch.
  const Rng::State saved = a.state();
  const auto next = draw_windows(a, 100, 10, 16);
  Rng resumed;
  resumed.set_state(saved);
  EXPECT_EQ(draw_windows(resumed, 100, 10, 16), next);
}

TEST(Windows, SpacedOffsetsCoverTheSplitEvenly) {
  const auto w = spaced_windows(1000, 65, 5);
  EXPECT_EQ(w, (std::vector<int64_t>{0, 233, 467, 701, 935}));
  EXPECT_EQ(spaced_windows(65, 65, 3), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_THROW(spaced_windows(64, 65, 3), InfraError);
}

TEST(Windows, ReadWindowsCopiesTheRequestedRows) {
  const std::string split = "abcdefghij";
  const std::vector<int64_t> offsets{0, 5, 2, 7};
  const auto bytes = read_windows(split, offsets, 1, 3, 3);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "fghcde");
}

TEST(RankRows, EachRankTakesItsContiguousShare) {
  EXPECT_EQ(rank_rows(16, 1, 4).begin, 4);
  EXPECT_EQ(rank_rows(16, 1, 4).end, 8);
  EXPECT_EQ(rank_rows(16, 0, 1).count(), 16);
  EXPECT_THROW(rank_rows(10, 0, 4), InfraError);
}

// The field of the ConfigError validate_gpt_config raises, with its message, or "" if none.
std::string validation_error(const ExperimentConfig& c, std::string* message = nullptr) {
  try {
    validate_gpt_config(c);
  } catch (const ConfigError& e) {
    if (message) *message = e.what();
    return e.field();
  }
  return "";
}

TEST(ValidateGptConfig, AcceptsAGoodCorpus) {
  TempDir dir;
  write_file(dir.file("text"), testing::toy_text(4000));
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"))), "");
}

TEST(ValidateGptConfig, RejectsMissingEmptyAndTooSmallCorpora) {
  TempDir dir;
  std::string msg;
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("none")), &msg), "data.corpus");
  EXPECT_NE(msg.find("does not exist"), std::string::npos);

  std::filesystem::create_directory(dir.file("empty"));
  write_file(dir.file("empty/index.dat"), "not text");
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("empty")), &msg), "data.corpus");
  EXPECT_NE(msg.find("holds no text"), std::string::npos);

  // 300 bytes with val_fraction 0.1: 30 validation bytes < a window of 33.
  write_file(dir.file("small"), testing::toy_text(300));
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("small")), &msg), "data.corpus");
  EXPECT_NE(msg.find("seq_len + 1 = 33"), std::string::npos);
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("small"), "[data]\nval_fraction = 0.2\n")), "");
  // A [space] that may try a longer context is checked at its largest value.
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("small"),
                                                      "[data]\nval_fraction = 0.2\n[space]\nseq_len = choice(16, 64)\n")),
            "data.corpus");
}

TEST(ValidateGptConfig, RejectsFp16OnCpuAndCudaWithoutCuda) {
  TempDir dir;
  write_file(dir.file("text"), testing::toy_text(4000));
  std::string msg;
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"), "[train]\nprecision = fp16\n"), &msg),
            "train.precision");
  EXPECT_NE(msg.find("fp16 needs a CUDA device; use bf16 or fp32 on CPU"), std::string::npos);
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"), "[train]\nprecision = bf16\n")), "");
  if (!cuda_available()) {
    EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"), "[train]\ndevice = cuda\n")),
              "train.device");
    EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"),
                                                        "[train]\ndevice = auto\nprecision = fp16\n")),
              "train.precision");
  }
}

TEST(ValidateGptConfig, RejectsASmallVocabularyAndNcclWithoutCuda) {
  TempDir dir;
  write_file(dir.file("text"), testing::toy_text(4000));
  std::string msg;
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"), "[model]\nvocab_size = 100\n"), &msg),
            "model.vocab_size");
  EXPECT_NE(msg.find("256"), std::string::npos) << msg;
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"), "[model]\nvocab_size = 512\n")), "");
  // device = cpu in the tiny config: NCCL cannot carry CPU tensors, in any build.
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"), "[train]\ncollectives = nccl\n"), &msg),
            "train.collectives");
  EXPECT_EQ(validation_error(testing::tiny_gpt_config(dir.file("text"), "[train]\ncollectives = mpi\n")), "");
}

TEST(ValidateGptConfig, DefaultFortunesCorpusSplitsAsLoaded) {
  ASSERT_TRUE(std::filesystem::exists(testing::kFortunes)) << "install the Debian package fortunes (mpi_scripts/install_deps.sh)";
  const auto files = corpus_files(testing::kFortunes);
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) EXPECT_FALSE(f.size() >= 4 && f.compare(f.size() - 4, 4, ".dat") == 0) << f;
  const SplitSizes sizes = split_sizes(files, 0.1);
  const Corpus c = Corpus::load(testing::kFortunes, 0.1);
  EXPECT_EQ(static_cast<int64_t>(c.train().size()), sizes.train);
  EXPECT_EQ(static_cast<int64_t>(c.validation().size()), sizes.validation);
  EXPECT_GT(sizes.validation, 100000);
}

}  // namespace
}  // namespace mpitune
