// BOHB's model: per-budget observations, the good/bad split, the two kernel density
// estimators l(x) and g(x), and the sampler that maximises l(x)/g(x) (Falkner et al. 2018,
// reference code HpBandSter's config_generators/bohb.py with statsmodels' KDEMultivariate).
//
// Everything lives on the unit cube of the space (Domain::to_unit): uniform, loguniform and int
// dimensions are continuous coordinates in [0, 1] with Gaussian kernels; choice/grid dimensions
// are category indices with Aitchison-Aitken kernels.
//
// The rules, as HpBandSter applies them (N = results at one budget, d = dimensions,
// N_min = min_points_in_model, p = top_n_percent; "//" is integer division):
//   n_good = max(N_min, p * N // 100)          good = the n_good lowest losses
//   n_bad  = max(N_min, (100 - p) * N // 100)  bad  = the next n_bad after them, i.e. sorted
//                                              positions [n_good, n_good + n_bad), so the two
//                                              sets never share a point and bad may have fewer
//                                              than n_bad rows (N - n_good when N is small)
//   a budget has a model iff N >= N_min and both sets have more rows than d.
// The model used is the one of the largest budget that has one. Ties in loss keep the order in
// which results came in; non-finite losses are +inf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "mpitune/core/rng.hpp"
#include "mpitune/search/searcher.hpp"
#include "mpitune/search/space.hpp"

namespace mpitune {

// One coordinate of the unit-cube encoding.
struct KdeDim {
  bool categorical = false;
  int levels = 0;  // categorical: number of choices
};

std::vector<KdeDim> kde_dims(const Space& space);
// Domain::to_unit of every hyperparameter, in space order.
std::vector<double> kde_encode(const Space& space, const HParams& hp);
// Domain::from_unit of every coordinate (numeric clipped to [0, 1], ints and indices rounded).
HParams kde_decode(const Space& space, const std::vector<double>& x);

// statsmodels' normal-reference rule: 1.06 * std(column, ddof = 0) * n^(-1 / (4 + d)).
double normal_reference_bandwidth(const std::vector<double>& column, size_t d);
// Gaussian kernel of bandwidth bw, normalised on the real line: phi((x - xi) / bw) / bw.
double gaussian_kernel(double x, double xi, double bw);
// Aitchison-Aitken: 1 - bw for the same category, bw / (levels - 1) for any other; 1 when
// there is a single level.
double aitchison_aitken_kernel(double x, double xi, double bw, int levels);

// A product-kernel density estimate over rows of unit-cube coordinates (KDEMultivariate with
// bw = normal_reference): pdf(x) = mean_i prod_j K_j(x_j, row_i_j, bw_j). Bandwidths are
// floored at min_bandwidth; a categorical one is also capped at (levels - 1) / levels, where
// the kernel is already uniform (HpBandSter leaves it uncapped, which lets the normal-reference
// rule on category indices exceed 1 and make the kernel negative).
class Kde {
 public:
  Kde(std::vector<KdeDim> dims, std::vector<std::vector<double>> rows, double min_bandwidth);

  double pdf(const std::vector<double>& x) const;
  const std::vector<double>& bandwidths() const { return bw_; }
  const std::vector<std::vector<double>>& rows() const { return rows_; }
  const std::vector<KdeDim>& dims() const { return dims_; }

 private:
  std::vector<KdeDim> dims_;
  std::vector<std::vector<double>> rows_;
  std::vector<double> bw_;
};

// l(x) on the good points, g(x) on the bad ones.
struct KdePair {
  Kde good;
  Kde bad;
};

// HpBandSter's sizes (see the top of this file).
size_t bohb_n_good(size_t n, size_t min_points, int top_n_percent);
size_t bohb_n_bad(size_t n, size_t min_points, int top_n_percent);

// The acquisition value HpBandSter maximises: max(l(x), 1e-32) / max(g(x), 1e-32).
double bohb_ratio(const KdePair& m, const std::vector<double>& x);
// Index of the candidate with the largest ratio (the first one on ties); candidates non-empty.
size_t bohb_best_candidate(const KdePair& m, const std::vector<std::vector<double>>& candidates);
// One candidate around `center` (a good point): continuous coordinates from a normal with
// sd = bandwidth_factor * max(bw, min_bandwidth) truncated to [0, 1]; categorical ones keep the
// center's category with probability 1 - bw, else a uniformly drawn category.
std::vector<double> bohb_candidate(const Kde& good, const std::vector<double>& center, Rng& rng,
                                   double bandwidth_factor, double min_bandwidth);

// Observations per budget and the model rules; the searcher is a thin shell around it.
class BohbModel {
 public:
  BohbModel(const Space& space, const BohbOptions& o);

  // d + 1, or the option when it is larger.
  size_t min_points() const { return min_points_; }
  const Space& space() const { return space_; }
  const BohbOptions& options() const { return o_; }

  // Records trial `id`'s loss at `budget`; a second observation of the same trial at the same
  // budget replaces the first (keeps its place in the arrival order).
  void observe(TrialId id, const HParams& hp, double budget, double loss);

  size_t count(double budget) const;
  // Rows the good and bad KDEs would get at this budget (the bad one after slicing).
  size_t good_rows(double budget) const;
  size_t bad_rows(double budget) const;
  bool has_model(double budget) const;
  // The largest budget that has a model; nullopt when none has.
  std::optional<double> model_budget() const;
  // The two KDEs of a budget; nullopt when it has no model.
  std::optional<KdePair> fit(double budget) const;

  struct Pick {
    HParams hp;
    bool model_based = false;  // false: uniform from the space (no model, or random_fraction)
    double budget = 0;         // the model's budget when model_based
    std::vector<double> x;     // the chosen unit-cube point (before rounding) when model_based
    double ratio = 0;          // its l/g when model_based
  };
  // One suggestion, every random draw from `rng`.
  Pick suggest(Rng& rng) const;

 private:
  struct Obs {
    TrialId id;
    std::vector<double> x;
    double loss;
  };
  // Sorted by loss (stable), for fit and the split sizes.
  std::vector<const Obs*> sorted(double budget) const;

  Space space_;
  BohbOptions o_;
  std::vector<KdeDim> dims_;
  size_t min_points_;
  std::map<double, std::vector<Obs>> obs_;  // per budget, in arrival order
};

}  // namespace mpitune
