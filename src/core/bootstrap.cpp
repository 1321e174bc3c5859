// Bootstrap intervals over documents (see bootstrap.hpp).
#include "mpitune/core/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"

namespace mpitune {
namespace {

// The q-quantile of sorted values, linearly interpolated (numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

double ratio(double sum, double count) { return count > 0 ? sum / count : std::nan(""); }

}  // namespace

BootstrapInterval bootstrap_mean_loss(const std::vector<double>& loss_sums, const std::vector<int64_t>& tokens,
                                      int resamples, uint64_t seed) {
  MPITUNE_CHECK(loss_sums.size() == tokens.size(), "bootstrap: " + std::to_string(loss_sums.size()) +
                                                       " loss sums but " + std::to_string(tokens.size()) + " token counts");
  double sum = 0, count = 0;
  for (size_t i = 0; i < tokens.size(); ++i) sum += loss_sums[i], count += static_cast<double>(tokens[i]);
  MPITUNE_CHECK(count > 0, "bootstrap: no document has a counted token");
  BootstrapInterval b;
  b.estimate = b.low = b.high = sum / count;
  const size_t n = tokens.size();
  if (n < 2 || resamples <= 0) return b;
  Rng rng(derive_seed(seed, "bootstrap"));
  std::vector<double> estimates;
  estimates.reserve(static_cast<size_t>(resamples));
  while (estimates.size() < static_cast<size_t>(resamples)) {
    double s = 0, c = 0;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = static_cast<size_t>(rng.integer(0, static_cast<int64_t>(n) - 1));
      s += loss_sums[i], c += static_cast<double>(tokens[i]);
    }
    if (c > 0) estimates.push_back(s / c);  // a resample of token-less documents only says nothing
  }
  std::sort(estimates.begin(), estimates.end());
  b.low = quantile(estimates, 0.025);
  b.high = quantile(estimates, 0.975);
  b.resamples = resamples;
  return b;
}

PairedComparison paired_bootstrap(const std::vector<double>& a_loss_sums, const std::vector<double>& b_loss_sums,
                                  const std::vector<int64_t>& tokens, int resamples, uint64_t seed) {
  MPITUNE_CHECK(a_loss_sums.size() == tokens.size() && b_loss_sums.size() == tokens.size(),
                "paired bootstrap: the two models were not evaluated on the same documents");
  const size_t n = tokens.size();
  double sa = 0, sb = 0, c = 0;
  for (size_t i = 0; i < n; ++i) sa += a_loss_sums[i], sb += b_loss_sums[i], c += static_cast<double>(tokens[i]);
  MPITUNE_CHECK(c > 0, "paired bootstrap: no document has a counted token");
  PairedComparison p;
  const double observed = ratio(sa, c) - ratio(sb, c);
  p.difference.estimate = p.difference.low = p.difference.high = observed;
  if (n < 2 || resamples <= 0) return p;
  Rng rng(derive_seed(seed, "paired-bootstrap"));
  std::vector<double> diffs;
  diffs.reserve(static_cast<size_t>(resamples));
  int64_t other_side = 0;
  while (diffs.size() < static_cast<size_t>(resamples)) {
    double ra = 0, rb = 0, rc = 0;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = static_cast<size_t>(rng.integer(0, static_cast<int64_t>(n) - 1));
      ra += a_loss_sums[i], rb += b_loss_sums[i], rc += static_cast<double>(tokens[i]);
    }
    if (rc <= 0) continue;
    const double d = (ra - rb) / rc;
    diffs.push_back(d);
    // The difference vanishes or flips sign in this resample.
    if (observed > 0 ? d <= 0 : observed < 0 ? d >= 0 : true) ++other_side;
  }
  std::sort(diffs.begin(), diffs.end());
  p.difference.low = quantile(diffs, 0.025);
  p.difference.high = quantile(diffs, 0.975);
  p.difference.resamples = resamples;
  p.p_value = std::min(1.0, std::max(2.0 * static_cast<double>(other_side), 1.0) / resamples);
  return p;
}

}  // namespace mpitune
