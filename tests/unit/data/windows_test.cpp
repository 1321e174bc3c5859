// Windows over a token split: drawn and spaced offsets, batches with the loss mask, rank rows.
#include <gtest/gtest.h>

#include <numeric>

#include "mpitune/core/error.hpp"
#include "mpitune/data/token_corpus.hpp"

namespace mpitune {
namespace {

// A split over ids 100, 101, ... held by the test.
struct OwnedSplit {
  explicit OwnedSplit(int64_t n, std::vector<uint8_t> mask = {}) : ids(static_cast<size_t>(n)), mask(std::move(mask)) {
    std::iota(ids.begin(), ids.end(), 100);
    doc_begin = {0, n};
    split.size = n;
    split.ids = ids.data();
    split.loss_mask = this->mask.empty() ? nullptr : this->mask.data();
    split.documents = 1;
    split.doc_begin = doc_begin.data();
  }
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
  std::vector<int64_t> doc_begin;
  TokenSplit split;
};

TEST(DrawWindows, InRangeSeededAndCoveringBothEnds) {
  OwnedSplit s(20);
  Rng a(42), b(42);
  const auto wa = draw_windows(a, s.split, 5, 2000);
  EXPECT_EQ(wa, draw_windows(b, s.split, 5, 2000));  // same Rng state, same windows
  bool saw_first = false, saw_last = false;
  for (int64_t o : wa) {
    ASSERT_GE(o, 0);
    ASSERT_LE(o, 15);
    saw_first |= o == 0;
    saw_last |= o == 15;
  }
  EXPECT_TRUE(saw_first);
  EXPECT_TRUE(saw_last);
  // A window exactly as long as the split has one place.
  Rng c(1);
  EXPECT_EQ(draw_windows(c, s.split, 20, 3), (std::vector<int64_t>{0, 0, 0}));
}

TEST(SpacedWindows, EvenlySpacedWithBothEnds) {
  OwnedSplit s(25);
  EXPECT_EQ(spaced_windows(s.split, 5, 5), (std::vector<int64_t>{0, 5, 10, 15, 20}));
  EXPECT_EQ(spaced_windows(s.split, 5, 3), (std::vector<int64_t>{0, 10, 20}));
  EXPECT_EQ(spaced_windows(s.split, 5, 1), (std::vector<int64_t>{0}));
  EXPECT_EQ(spaced_windows(s.split, 6, 4), (std::vector<int64_t>{0, 6, 12, 19}));  // floor(19 i / 3)
  EXPECT_TRUE(spaced_windows(s.split, 5, 0).empty());
}

TEST(SpacedWindows, NoOverflowOnHugeSplits) {
  TokenSplit huge;  // offsets only: no ids are read
  huge.size = int64_t{1} << 62;
  const auto w = spaced_windows(huge, 2, 1000);
  EXPECT_EQ(w.front(), 0);
  EXPECT_EQ(w.back(), huge.size - 2);
  for (size_t i = 1; i < w.size(); ++i) ASSERT_GT(w[i], w[i - 1]);
}

TEST(Windows, ArgumentsOutOfRangeAreInfraErrors) {
  OwnedSplit s(10);
  Rng rng(0);
  EXPECT_THROW(draw_windows(rng, s.split, 11, 1), InfraError);
  EXPECT_THROW(draw_windows(rng, s.split, 1, 1), InfraError);
  EXPECT_THROW(spaced_windows(s.split, 11, 2), InfraError);
  EXPECT_THROW(spaced_windows(s.split, 5, -1), InfraError);
  std::vector<int64_t> in(8), tg(8);
  EXPECT_THROW(fill_batch(s.split, {0, 6}, 0, 2, 5, in.data(), tg.data()), InfraError);  // 6 + 5 > 10
  EXPECT_THROW(fill_batch(s.split, {0, -1}, 0, 2, 5, in.data(), tg.data()), InfraError);
  EXPECT_THROW(fill_batch(s.split, {0, 1}, 1, 3, 5, in.data(), tg.data()), InfraError);
  EXPECT_THROW(fill_batch(s.split, {0, 1}, 2, 1, 5, in.data(), tg.data()), InfraError);
  EXPECT_THROW(count_targets(s.split, {0, 6}, 0, 2, 5), InfraError);
}

TEST(FillBatch, InputsAndTargetsShiftedByOne) {
  OwnedSplit s(10);
  const std::vector<int64_t> offsets = {0, 3, 6};
  std::vector<int64_t> in(2 * 3), tg(2 * 3);
  // Rows 1 and 2 only, as one rank of a group would.
  const int64_t counted = fill_batch(s.split, offsets, 1, 3, 4, in.data(), tg.data());
  EXPECT_EQ(counted, 6);
  EXPECT_EQ(in, (std::vector<int64_t>{103, 104, 105, 106, 107, 108}));
  EXPECT_EQ(tg, (std::vector<int64_t>{104, 105, 106, 107, 108, 109}));
  EXPECT_EQ(count_targets(s.split, offsets, 1, 3, 4), 6);
  EXPECT_EQ(fill_batch(s.split, offsets, 2, 2, 4, nullptr, nullptr), 0);  // no rows
}

TEST(FillBatch, MaskedTargetsAreIgnored) {
  // A prompted document: BOS and prompt (mask 0) at 0..2, completion and EOS (mask 1) at 3..5,
  // then another prompted one.
  OwnedSplit s(10, {0, 0, 0, 1, 1, 1, 0, 0, 1, 1});
  const std::vector<int64_t> offsets = {0, 4};
  std::vector<int64_t> in(2 * 5), tg(2 * 5);
  const int64_t counted = fill_batch(s.split, offsets, 0, 2, 6, in.data(), tg.data());
  // Row 0 predicts tokens 1..5: masks 0 0 1 1 1. Row 1 predicts tokens 5..9: masks 1 0 0 1 1.
  EXPECT_EQ(in, (std::vector<int64_t>{100, 101, 102, 103, 104, 104, 105, 106, 107, 108}));
  EXPECT_EQ(tg, (std::vector<int64_t>{-100, -100, 103, 104, 105, 105, -100, -100, 108, 109}));
  EXPECT_EQ(counted, 6);
  EXPECT_EQ(count_targets(s.split, offsets, 0, 2, 6), 6);
  EXPECT_EQ(count_targets(s.split, offsets, 1, 2, 6), 3);
}

TEST(RankRows, SplitsTheGlobalBatchEvenly) {
  EXPECT_EQ(rank_rows(8, 0, 4).begin, 0);
  EXPECT_EQ(rank_rows(8, 0, 4).end, 2);
  EXPECT_EQ(rank_rows(8, 3, 4).begin, 6);
  EXPECT_EQ(rank_rows(8, 3, 4).end, 8);
  EXPECT_EQ(rank_rows(8, 2, 4).count(), 2);
  EXPECT_THROW(rank_rows(6, 0, 4), InfraError);
  EXPECT_THROW(rank_rows(8, 4, 4), InfraError);
  EXPECT_THROW(rank_rows(8, 0, 0), InfraError);
}

}  // namespace
}  // namespace mpitune
