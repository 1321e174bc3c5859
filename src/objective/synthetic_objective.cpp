// Maps a trial's hyperparameters onto the inputs of the configured synthetic objective, and
// checks up front that the space can feed it, so a mismatch is one config error before the
// run instead of every trial failing.
#include <algorithm>
#include <cmath>
#include <limits>

#include "mpitune/core/error.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {
namespace {

bool is_numeric_domain(const Domain& d) {
  if (!d.is_categorical()) return true;
  return std::all_of(d.values.begin(), d.values.end(), [](const ParamValue& v) { return v.is_numeric(); });
}

// [lowest, highest] value a numeric domain can produce.
std::pair<double, double> bounds_of(const Domain& d) {
  if (!d.is_categorical()) return {d.low, d.high};
  double lo = d.values.front().as_double(), hi = lo;
  for (const auto& v : d.values) lo = std::min(lo, v.as_double()), hi = std::max(hi, v.as_double());
  return {lo, hi};
}

bool is_binary_domain(const Domain& d) {
  if (d.kind == DomainKind::Int) return d.low == 0 && d.high == 1;
  if (!d.is_categorical() || d.values.size() != 2) return false;
  const bool has0 = d.values[0] == ParamValue(0) || d.values[1] == ParamValue(0);
  const bool has1 = d.values[0] == ParamValue(1) || d.values[1] == ParamValue(1);
  return has0 && has1;
}

void require_unit_bounds(const Domain& d, const std::string& objective) {
  const auto [lo, hi] = bounds_of(d);
  if (lo < 0 || hi > 1)
    throw ConfigError("space." + d.name,
                      objective + " inputs must lie in [0, 1], got " + d.describe(),
                      "use e.g. " + d.name + " = uniform(0, 1)");
}

double finite_or_inf(double x) { return std::isfinite(x) ? x : std::numeric_limits<double>::infinity(); }

}  // namespace

SyntheticObjective::SyntheticObjective(const SyntheticOptions& options, const Space& space)
    : options_(options), space_(space) {
  const auto& doms = space_.domains();
  for (size_t i = 0; i < doms.size(); ++i)
    if (is_numeric_domain(doms[i])) numeric_.push_back(i);
  const std::string& obj = options_.objective;
  const std::string found = "found " + std::to_string(numeric_.size());

  if (obj == "branin") {
    if (numeric_.size() < 2)
      throw ConfigError("space", "branin needs 2 numeric hyperparameters; " + found,
                        "add e.g. x1 = uniform(-5, 10) and x2 = uniform(0, 15)");
  } else if (obj == "hartmann6") {
    if (numeric_.size() < 6)
      throw ConfigError("space", "hartmann6 needs 6 numeric hyperparameters in [0, 1]; " + found,
                        "add x1 .. x6 = uniform(0, 1)");
    for (size_t k = 0; k < 6; ++k) require_unit_bounds(doms[numeric_[k]], obj);
  } else if (obj == "counting_ones") {
    const size_t n_cat = static_cast<size_t>(std::max(0, options_.n_categorical));
    if (n_cat > doms.size())
      throw ConfigError("synthetic.n_categorical",
                        std::to_string(n_cat) + " exceeds the " + std::to_string(doms.size()) +
                            " hyperparameters of [space]",
                        "lower it or add binary hyperparameters such as b1 = choice(0, 1)");
    for (size_t i = 0; i < doms.size(); ++i) {
      if (i < n_cat) {
        if (!is_binary_domain(doms[i]))
          throw ConfigError("space." + doms[i].name,
                            "counting_ones: the first n_categorical = " + std::to_string(n_cat) +
                                " hyperparameters must be binary, got " + doms[i].describe(),
                            "write " + doms[i].name + " = choice(0, 1) or int(0, 1)");
      } else {
        if (!is_numeric_domain(doms[i]))
          throw ConfigError("space." + doms[i].name,
                            "counting_ones: continuous dimensions must be numeric in [0, 1], got " +
                                doms[i].describe(),
                            "write " + doms[i].name + " = uniform(0, 1), or raise synthetic.n_categorical");
        require_unit_bounds(doms[i], obj);
      }
    }
  } else if (obj != "learning_curve") {
    throw ConfigError("synthetic.objective", "unknown objective '" + obj + "'",
                      "use learning_curve, hartmann6, branin or counting_ones");
  }
}

std::vector<double> SyntheticObjective::numeric_inputs(const HParams& hp, size_t n) const {
  std::vector<double> x;
  for (size_t k = 0; k < n; ++k) x.push_back(hp.at(space_.domains()[numeric_[k]].name).as_double());
  return x;
}

std::vector<double> SyntheticObjective::unit_inputs(const HParams& hp) const {
  std::vector<double> u;
  for (const auto& d : space_.domains()) {
    const double coord = d.to_unit(hp.at(d.name));
    if (!d.is_categorical()) u.push_back(std::clamp(coord, 0.0, 1.0));
    else u.push_back(d.values.size() > 1 ? coord / static_cast<double>(d.values.size() - 1) : 0.0);
  }
  return u;
}

double SyntheticObjective::value(const HParams& hp, int64_t step, int64_t max_steps, uint64_t seed) const {
  const std::string& obj = options_.objective;
  double v = 0;
  if (obj == "branin") {
    const auto x = numeric_inputs(hp, 2);
    v = branin(x[0], x[1]);
  } else if (obj == "hartmann6") {
    const auto x = numeric_inputs(hp, 6);
    std::array<double, 6> a;
    std::copy(x.begin(), x.end(), a.begin());
    v = mf_hartmann6(a, fidelity_of_step(step, max_steps), options_.bias, options_.noise, seed);
  } else if (obj == "counting_ones") {
    const size_t n_cat = static_cast<size_t>(std::max(0, options_.n_categorical));
    std::vector<int> cats;
    std::vector<double> conts;
    for (size_t i = 0; i < space_.size(); ++i) {
      const ParamValue& p = hp.at(space_.domains()[i].name);
      if (i < n_cat) cats.push_back(p.as_int() != 0 ? 1 : 0);
      else conts.push_back(std::clamp(p.as_double(), 0.0, 1.0));
    }
    v = counting_ones(cats, conts, fidelity_of_step(step, max_steps), seed);
  } else {
    v = learning_curve_loss(step, max_steps, unit_inputs(hp), seed, options_.noise);
  }
  return finite_or_inf(v);
}

int fidelity_of_step(int64_t step, int64_t max_steps) {
  MPITUNE_CHECK(max_steps >= 1, "max_steps must be >= 1");
  const double z = std::round(100.0 * static_cast<double>(step) / static_cast<double>(max_steps));
  return static_cast<int>(std::clamp(z, 1.0, 100.0));
}

void validate_synthetic(const ExperimentConfig& cfg) {
  const SyntheticObjective check(cfg.synthetic, cfg.space);  // the constructor does the checking
  (void)check;
}

}  // namespace mpitune
