// The seeded document split: sizes by rounding, disjoint, complete, deterministic by seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "mpitune/data/split.hpp"

namespace mpitune {
namespace {

TEST(SplitCounts, RoundToNearestWithHalvesUp) {
  const SplitCounts a = split_counts(15, 0.1, 0);  // 1.5 -> 2
  EXPECT_EQ(a.validation, 2);
  EXPECT_EQ(a.test, 0);
  EXPECT_EQ(a.train, 13);
  const SplitCounts b = split_counts(14, 0.1, 0.2);  // 1.4 -> 1, 2.8 -> 3
  EXPECT_EQ(b.validation, 1);
  EXPECT_EQ(b.test, 3);
  EXPECT_EQ(b.train, 10);
  EXPECT_EQ(split_counts(4, 0.1, 0).validation, 0);  // 0.4 -> 0: the caller reports it
  const SplitCounts c = split_counts(2, 0.9, 0.9);   // never more than there are
  EXPECT_EQ(c.validation + c.test, 2);
  EXPECT_EQ(c.train, 0);
}

std::set<int64_t> as_set(const std::vector<int64_t>& v) { return {v.begin(), v.end()}; }

TEST(SplitDocuments, DisjointCompleteSortedAndOfTheRightSizes) {
  const int64_t n = 1000;
  const auto split = split_documents(n, 0.1, 0.05, 7);
  EXPECT_EQ(split[0].size(), 850u);
  EXPECT_EQ(split[1].size(), 100u);
  EXPECT_EQ(split[2].size(), 50u);
  std::set<int64_t> all;
  for (const auto& s : split) {
    EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));  // corpus order within a split
    for (int64_t i : s) {
      EXPECT_GE(i, 0);
      EXPECT_LT(i, n);
      EXPECT_TRUE(all.insert(i).second) << "document " << i << " in two splits";
    }
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(n));
}

TEST(SplitDocuments, SameSeedSameSplitOtherSeedOther) {
  const auto a = split_documents(500, 0.2, 0.1, 1);
  const auto b = split_documents(500, 0.2, 0.1, 1);
  const auto c = split_documents(500, 0.2, 0.1, 2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a[1], c[1]);
  EXPECT_NE(a[2], c[2]);
}

TEST(SplitDocuments, ValidationIsSpreadOverTheCorpusNotItsTail) {
  // A permutation, not "the last 10%": validation documents come from both halves.
  const auto split = split_documents(1000, 0.1, 0, 0);
  const auto first_half = std::count_if(split[1].begin(), split[1].end(), [](int64_t i) { return i < 500; });
  EXPECT_GT(first_half, 20);
  EXPECT_LT(first_half, 80);
}

TEST(SplitDocuments, NoTestFractionNoTestDocuments) {
  const auto split = split_documents(10, 0.3, 0, 3);
  EXPECT_TRUE(split[2].empty());
  EXPECT_EQ(as_set(split[0]).size() + as_set(split[1]).size(), 10u);
}

}  // namespace
}  // namespace mpitune
