// A parametric learning curve (formula in synthetic.hpp): cheap enough to run thousands of
// trials in a unit test, yet with the property that makes multi-fidelity scheduling
// interesting: fast starters are not always the best finishers.
#include <algorithm>
#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {

double learning_curve_loss(int64_t step, int64_t max_steps, const std::vector<double>& u,
                           uint64_t seed, double noise) {
  MPITUNE_CHECK(max_steps >= 1, "max_steps must be >= 1");
  const double p = std::clamp(static_cast<double>(step) / static_cast<double>(max_steps), 0.0, 1.0);
  double dist = 0;
  for (size_t j = 0; j < u.size(); ++j) {
    double whole;
    const double c = 0.2 + 0.6 * std::modf(0.618034 * static_cast<double>(j + 1), &whole);
    dist += (u[j] - c) * (u[j] - c);
  }
  const double floor = 0.2 + (u.empty() ? 0.0 : 2.0 * dist / static_cast<double>(u.size()));
  const double k = u.empty() ? 5.0 : 2.0 + 6.0 * u[0];
  const double mean = floor + (3.0 - floor) * std::exp(-k * p);
  if (noise <= 0) return mean;
  Rng rng(derive_seed(seed, "learning_curve", static_cast<uint64_t>(step)));
  return mean + noise * std::exp(-2.0 * p) * rng.normal();
}

}  // namespace mpitune
