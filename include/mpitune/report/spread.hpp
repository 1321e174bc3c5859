// Median and interquartile range of one figure over repeated runs (`mpitune report --aggregate`).
//
// The workshop runs each method several times with different seeds; one lucky seed must not
// decide the comparison, so the aggregated table shows the median and the 25%-75% range of each
// figure rather than a mean that one outlier moves. Quantiles are linearly interpolated between
// order statistics (numpy's default), so they can be checked by hand.
#pragma once

#include <vector>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct Spread {
  double median = kNaN;
  double q25 = kNaN;
  double q75 = kNaN;
  int count = 0;  // the values behind it (NaN values are left out)
};

// NaN values are left out (a run without that figure). +infinity is a value: a run that never
// reached a target counts as slower than every run that did, so the median is "not reached"
// (infinite) only when at least half of the runs did not reach it.
Spread spread_of(const std::vector<double>& values);

// The q-quantile (0 <= q <= 1) of ascending `sorted` values, interpolated; NaN when empty.
double interpolated_quantile(const std::vector<double>& sorted, double q);

}  // namespace mpitune
