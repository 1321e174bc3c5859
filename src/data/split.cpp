// The seeded train/validation/test split of a corpus's documents (see split.hpp).
#include "mpitune/data/split.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"

namespace mpitune {

SplitCounts split_counts(int64_t documents, double val_fraction, double test_fraction) {
  MPITUNE_CHECK(documents >= 0, "negative document count");
  MPITUNE_CHECK(val_fraction >= 0 && val_fraction <= 1 && test_fraction >= 0 && test_fraction <= 1,
                "split fraction outside [0, 1]");
  SplitCounts c;
  const auto n = static_cast<double>(documents);
  c.validation = std::min<int64_t>(documents, std::llround(val_fraction * n));
  c.test = std::min<int64_t>(documents - c.validation, std::llround(test_fraction * n));
  c.train = documents - c.validation - c.test;
  return c;
}

std::array<std::vector<int64_t>, 3> split_documents(int64_t documents, double val_fraction,
                                                    double test_fraction, uint64_t split_seed) {
  const SplitCounts counts = split_counts(documents, val_fraction, test_fraction);
  std::vector<int64_t> order(static_cast<size_t>(documents));
  std::iota(order.begin(), order.end(), int64_t{0});
  // Fisher-Yates with mpitune's own Rng (std::shuffle's draws are implementation-defined).
  Rng rng(derive_seed(split_seed, "split"));
  for (int64_t i = documents - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(rng.integer(0, i))]);
  std::array<std::vector<int64_t>, 3> out;
  auto take = [&](std::vector<int64_t>& dst, int64_t from, int64_t count) {
    dst.assign(order.begin() + from, order.begin() + from + count);
    std::sort(dst.begin(), dst.end());  // back into corpus order
  };
  take(out[1], 0, counts.validation);
  take(out[2], counts.validation, counts.test);
  take(out[0], counts.validation + counts.test, counts.train);
  return out;
}

}  // namespace mpitune
