// Counting ones (Falkner et al. 2018): a mixed binary/continuous problem whose budget is the
// number of Monte Carlo draws, so low budgets are noisy estimates of the same true value.
#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {

double counting_ones(const std::vector<int>& cats, const std::vector<double>& conts, int64_t budget,
                     uint64_t seed) {
  MPITUNE_CHECK(budget >= 1, "counting_ones budget must be >= 1");
  double sum = 0;
  for (int c : cats) sum += c;
  for (size_t j = 0; j < conts.size(); ++j) {
    Rng rng(derive_seed(seed, "counting_ones", j));
    int64_t ones = 0;
    for (int64_t k = 0; k < budget; ++k) ones += rng.bernoulli(conts[j]) ? 1 : 0;
    sum += static_cast<double>(ones) / static_cast<double>(budget);
  }
  return -sum;
}

}  // namespace mpitune
