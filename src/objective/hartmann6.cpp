// Hartmann-6 and its multi-fidelity variant from mf-prior-bench. The fidelity bias shrinks the
// depth of the four wells at low fidelity and the noise is added on top, so low fidelities are
// flatter and noisier but keep the shape that makes early results worth something.
#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {
namespace {

constexpr double kAlpha[4] = {1.0, 1.2, 3.0, 3.2};
constexpr double kA[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                             {0.05, 10, 17, 0.1, 8, 14},
                             {3, 3.5, 1.7, 10, 17, 8},
                             {17, 8, 0.05, 10, 0.1, 14}};
constexpr double kP[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                             {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                             {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                             {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};

// -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2) with the given well depths.
double hartmann6_with(const std::array<double, 6>& x, const double (&alpha)[4]) {
  double h = 0;
  for (int i = 0; i < 4; ++i) {
    double e = 0;
    for (int j = 0; j < 6; ++j) e += kA[i][j] * (x[j] - kP[i][j]) * (x[j] - kP[i][j]);
    h -= alpha[i] * std::exp(-e);
  }
  return h;
}

}  // namespace

double hartmann6(const std::array<double, 6>& x) { return hartmann6_with(x, kAlpha); }

double mf_hartmann6(const std::array<double, 6>& x, int z, double bias, double noise, uint64_t seed) {
  MPITUNE_CHECK(z >= 1 && z <= 100, "mf_hartmann6 fidelity must be in 1..100");
  const double gap = 1.0 - std::log(static_cast<double>(z)) / std::log(100.0);  // 1 - s
  double alpha[4];
  for (int i = 0; i < 4; ++i) alpha[i] = kAlpha[i] - bias * gap;
  double h = hartmann6_with(x, alpha);
  if (noise > 0 && gap > 0) {
    Rng rng(derive_seed(seed, "mf_hartmann6", static_cast<uint64_t>(z)));
    h += std::fabs(rng.normal()) * noise * gap;
  }
  return h;
}

double mf_hartmann6_cost(int z) {
  const double f = static_cast<double>(z) / 100.0;
  return 0.05 + 0.95 * f * f;
}

}  // namespace mpitune
