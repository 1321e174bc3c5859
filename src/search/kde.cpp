// BOHB's kernel density model (see kde.hpp for the exact rules and where they come from).
#include "mpitune/search/kde.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kDensityFloor = 1e-32;  // HpBandSter's guard against zero densities

// A normal(m, sd) draw truncated to [0, 1] by rejection. m lies in [0, 1] and sd is at most a
// few units, so at least ~10% of draws land inside; the cap only guards against a broken rng.
double truncated_normal01(double m, double sd, Rng& rng) {
  for (int i = 0; i < 10000; ++i) {
    const double v = m + sd * rng.normal();
    if (v >= 0 && v <= 1) return v;
  }
  return std::clamp(m, 0.0, 1.0);
}

}  // namespace

std::vector<KdeDim> kde_dims(const Space& space) {
  std::vector<KdeDim> dims;
  for (const Domain& d : space.domains()) {
    KdeDim k;
    k.categorical = d.is_categorical();
    k.levels = k.categorical ? static_cast<int>(d.values.size()) : 0;
    dims.push_back(k);
  }
  return dims;
}

std::vector<double> kde_encode(const Space& space, const HParams& hp) {
  std::vector<double> x;
  x.reserve(space.size());
  for (const Domain& d : space.domains()) x.push_back(d.to_unit(hp.at(d.name)));
  return x;
}

HParams kde_decode(const Space& space, const std::vector<double>& x) {
  MPITUNE_CHECK(x.size() == space.size(), "kde_decode: point has the wrong number of coordinates");
  HParams hp;
  for (size_t j = 0; j < x.size(); ++j) hp.set(space.domains()[j].name, space.domains()[j].from_unit(x[j]));
  return hp;
}

double normal_reference_bandwidth(const std::vector<double>& column, size_t d) {
  const double n = static_cast<double>(column.size());
  if (column.empty()) return 0;
  double mean = 0;
  for (double v : column) mean += v;
  mean /= n;
  double var = 0;
  for (double v : column) var += (v - mean) * (v - mean);
  const double sd = std::sqrt(var / n);  // numpy's default ddof = 0, as statsmodels uses it
  return 1.06 * sd * std::pow(n, -1.0 / (4.0 + static_cast<double>(d)));
}

double gaussian_kernel(double x, double xi, double bw) {
  const double u = (x - xi) / bw;
  return std::exp(-0.5 * u * u) / (std::sqrt(2 * M_PI) * bw);
}

double aitchison_aitken_kernel(double x, double xi, double bw, int levels) {
  if (levels <= 1) return 1;
  return std::lround(x) == std::lround(xi) ? 1 - bw : bw / (levels - 1);
}

Kde::Kde(std::vector<KdeDim> dims, std::vector<std::vector<double>> rows, double min_bandwidth)
    : dims_(std::move(dims)), rows_(std::move(rows)) {
  const size_t d = dims_.size();
  for (const auto& r : rows_) MPITUNE_CHECK(r.size() == d, "Kde: row of the wrong width");
  for (size_t j = 0; j < d; ++j) {
    std::vector<double> col;
    col.reserve(rows_.size());
    for (const auto& r : rows_) col.push_back(r[j]);
    double bw = std::max(normal_reference_bandwidth(col, d), min_bandwidth);
    if (dims_[j].categorical) {
      const int c = dims_[j].levels;
      bw = c <= 1 ? 0.0 : std::min(bw, static_cast<double>(c - 1) / c);
    }
    bw_.push_back(bw);
  }
}

double Kde::pdf(const std::vector<double>& x) const {
  MPITUNE_CHECK(x.size() == dims_.size(), "Kde::pdf: point of the wrong width");
  if (rows_.empty()) return 0;
  double sum = 0;
  for (const auto& r : rows_) {
    double p = 1;
    for (size_t j = 0; j < dims_.size(); ++j)
      p *= dims_[j].categorical ? aitchison_aitken_kernel(x[j], r[j], bw_[j], dims_[j].levels)
                                : gaussian_kernel(x[j], r[j], bw_[j]);
    sum += p;
  }
  return sum / static_cast<double>(rows_.size());
}

size_t bohb_n_good(size_t n, size_t min_points, int top_n_percent) {
  return std::max(min_points, static_cast<size_t>(top_n_percent) * n / 100);
}

size_t bohb_n_bad(size_t n, size_t min_points, int top_n_percent) {
  return std::max(min_points, static_cast<size_t>(100 - top_n_percent) * n / 100);
}

double bohb_ratio(const KdePair& m, const std::vector<double>& x) {
  return std::max(m.good.pdf(x), kDensityFloor) / std::max(m.bad.pdf(x), kDensityFloor);
}

size_t bohb_best_candidate(const KdePair& m, const std::vector<std::vector<double>>& candidates) {
  MPITUNE_CHECK(!candidates.empty(), "bohb_best_candidate: no candidates");
  size_t best = 0;
  double best_ratio = -kInf;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const double r = bohb_ratio(m, candidates[i]);
    if (r > best_ratio) {
      best_ratio = r;
      best = i;
    }
  }
  return best;
}

std::vector<double> bohb_candidate(const Kde& good, const std::vector<double>& center, Rng& rng,
                                   double bandwidth_factor, double min_bandwidth) {
  const auto& dims = good.dims();
  std::vector<double> v(dims.size());
  for (size_t j = 0; j < dims.size(); ++j) {
    const double bw = std::max(good.bandwidths()[j], min_bandwidth);
    if (!dims[j].categorical) {
      v[j] = truncated_normal01(center[j], bandwidth_factor * bw, rng);
    } else {
      v[j] = rng.uniform01() < 1 - bw ? std::round(center[j])
                                       : static_cast<double>(rng.integer(0, dims[j].levels - 1));
    }
  }
  return v;
}

BohbModel::BohbModel(const Space& space, const BohbOptions& o)
    : space_(space), o_(o), dims_(kde_dims(space)) {
  if (o.top_n_percent < 1 || o.top_n_percent > 99)
    throw ConfigError("search.top_n_percent", "must be in [1, 99], got " + std::to_string(o.top_n_percent),
                      "use e.g. top_n_percent = 15");
  if (o.num_samples < 1)
    throw ConfigError("search.num_samples", "must be >= 1", "use e.g. num_samples = 64");
  if (!(o.random_fraction >= 0 && o.random_fraction <= 1))
    throw ConfigError("search.random_fraction", "must be in [0, 1]", "use e.g. random_fraction = 0.333");
  if (!(o.bandwidth_factor > 0))
    throw ConfigError("search.bandwidth_factor", "must be > 0", "use e.g. bandwidth_factor = 3");
  if (!(o.min_bandwidth > 0))
    throw ConfigError("search.min_bandwidth", "must be > 0", "use e.g. min_bandwidth = 0.001");
  // HpBandSter raises anything below d + 1 to d + 1: a KDE needs more rows than dimensions.
  min_points_ = std::max(space.size() + 1, static_cast<size_t>(std::max(0, o.min_points_in_model)));
}

void BohbModel::observe(TrialId id, const HParams& hp, double budget, double loss) {
  if (!std::isfinite(loss)) loss = kInf;  // failed, diverged, and -inf too (as HpBandSter)
  auto& list = obs_[budget];
  for (Obs& o : list)
    if (o.id == id) {
      o.x = kde_encode(space_, hp);
      o.loss = loss;
      return;
    }
  list.push_back(Obs{id, kde_encode(space_, hp), loss});
}

size_t BohbModel::count(double budget) const {
  const auto it = obs_.find(budget);
  return it == obs_.end() ? 0 : it->second.size();
}

size_t BohbModel::good_rows(double budget) const {
  const size_t n = count(budget);
  return std::min(n, bohb_n_good(n, min_points_, o_.top_n_percent));
}

size_t BohbModel::bad_rows(double budget) const {
  const size_t n = count(budget);
  const size_t good = good_rows(budget);
  return std::min(n - good, bohb_n_bad(n, min_points_, o_.top_n_percent));
}

bool BohbModel::has_model(double budget) const {
  const size_t d = space_.size();
  return count(budget) >= min_points_ && good_rows(budget) > d && bad_rows(budget) > d;
}

std::optional<double> BohbModel::model_budget() const {
  for (auto it = obs_.rbegin(); it != obs_.rend(); ++it)
    if (has_model(it->first)) return it->first;
  return std::nullopt;
}

std::vector<const BohbModel::Obs*> BohbModel::sorted(double budget) const {
  std::vector<const Obs*> out;
  const auto it = obs_.find(budget);
  if (it == obs_.end()) return out;
  for (const Obs& o : it->second) out.push_back(&o);
  std::stable_sort(out.begin(), out.end(), [](const Obs* a, const Obs* b) { return a->loss < b->loss; });
  return out;
}

std::optional<KdePair> BohbModel::fit(double budget) const {
  if (!has_model(budget)) return std::nullopt;
  const auto s = sorted(budget);
  const size_t n_good = good_rows(budget), n_bad = bad_rows(budget);
  std::vector<std::vector<double>> good, bad;
  for (size_t i = 0; i < n_good; ++i) good.push_back(s[i]->x);
  for (size_t i = n_good; i < n_good + n_bad; ++i) bad.push_back(s[i]->x);
  return KdePair{Kde(dims_, std::move(good), o_.min_bandwidth), Kde(dims_, std::move(bad), o_.min_bandwidth)};
}

BohbModel::Pick BohbModel::suggest(Rng& rng) const {
  Pick p;
  const auto budget = model_budget();
  // HpBandSter draws the random-fraction coin only once a model exists.
  if (!budget || rng.uniform01() < o_.random_fraction) {
    p.hp = space_.sample(rng);
    return p;
  }
  const KdePair m = *fit(*budget);
  const auto& good = m.good.rows();
  double best_ratio = -kInf;
  for (int i = 0; i < o_.num_samples; ++i) {
    const auto& center = good[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(good.size()) - 1))];
    std::vector<double> v = bohb_candidate(m.good, center, rng, o_.bandwidth_factor, o_.min_bandwidth);
    const double r = bohb_ratio(m, v);
    if (r > best_ratio) {
      best_ratio = r;
      p.x = std::move(v);
    }
  }
  p.model_based = true;
  p.budget = *budget;
  p.ratio = best_ratio;
  p.hp = kde_decode(space_, p.x);
  return p;
}

}  // namespace mpitune
