// Median and interquartile range over repeated runs (see spread.hpp).
#include "mpitune/report/spread.hpp"

#include <algorithm>
#include <cmath>

namespace mpitune {

double interpolated_quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return kNaN;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double weight = pos - static_cast<double>(lo);
  // Written so that an infinite upper neighbour with weight 0 does not give inf * 0 = NaN.
  if (weight == 0) return sorted[lo];
  if (std::isinf(sorted[hi]) || std::isinf(sorted[lo])) return sorted[hi];
  return sorted[lo] + weight * (sorted[hi] - sorted[lo]);
}

Spread spread_of(const std::vector<double>& values) {
  std::vector<double> kept;
  for (double v : values)
    if (!std::isnan(v)) kept.push_back(v);
  std::sort(kept.begin(), kept.end());
  Spread s;
  s.count = static_cast<int>(kept.size());
  s.median = interpolated_quantile(kept, 0.5);
  s.q25 = interpolated_quantile(kept, 0.25);
  s.q75 = interpolated_quantile(kept, 0.75);
  return s;
}

}  // namespace mpitune
