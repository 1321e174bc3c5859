// Bootstrap intervals over documents (Efron & Tibshirani 1993, percentile method).
//
// A test loss is a ratio: the summed loss of the counted tokens over their number. Resampling
// whole documents (with replacement) keeps the dependence between the tokens of one document,
// which a per-token interval would ignore and so come out too narrow. Deterministic: the
// resamples are drawn from `seed`.
#pragma once

#include <cstdint>
#include <vector>

namespace mpitune {

struct BootstrapInterval {
  double estimate = 0;  // on the documents as given: sum(loss_sums) / sum(tokens)
  double low = 0;       // the 2.5% and 97.5% percentiles of the resampled estimates
  double high = 0;
  int resamples = 0;    // 0: no interval (fewer than 2 documents, or resamples = 0): low = high = estimate
};

// The token-weighted mean loss of the documents and its 95% interval. Documents with no counted
// token are kept (they weigh nothing in either sum). Throws InfraError when the vectors differ
// in length or no document has a counted token.
BootstrapInterval bootstrap_mean_loss(const std::vector<double>& loss_sums, const std::vector<int64_t>& tokens,
                                      int resamples, uint64_t seed);

// Paired comparison of two models evaluated on the same documents (a paired bootstrap, as for
// machine-translation metrics, Koehn 2004): the interval of mean(a) - mean(b), and the share of
// resamples in which the difference has the other sign than on the full set, doubled (a
// two-sided bootstrap p-value, at least 1 / resamples). Throws InfraError when the two do not
// cover the same documents (lengths or token counts differ).
struct PairedComparison {
  BootstrapInterval difference;  // a - b
  double p_value = 1;
};
PairedComparison paired_bootstrap(const std::vector<double>& a_loss_sums, const std::vector<double>& b_loss_sums,
                                  const std::vector<int64_t>& tokens, int resamples, uint64_t seed);

}  // namespace mpitune
