// The simulator's cost model (coord/cost_model.hpp): step seconds from a trial's
// hyperparameters, seeded stragglers, jitter and segment failures.
#include "mpitune/coord/cost_model.hpp"

#include <algorithm>
#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/core/ini.hpp"
#include "mpitune/core/rng.hpp"

namespace mpitune {
namespace {

constexpr const char* kTermsField = "simulate.step_seconds_per";

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    const size_t at = text.find(sep, pos);
    out.push_back(trim(text.substr(pos, at == std::string::npos ? std::string::npos : at - pos)));
    if (at == std::string::npos) return out;
    pos = at + 1;
  }
}

}  // namespace

std::vector<CostTerm> parse_cost_terms(const std::string& text, const Space& space) {
  std::vector<CostTerm> terms;
  if (trim(text).empty()) return terms;
  for (const std::string& item : split(text, ',')) {
    const size_t colon = item.rfind(':');
    if (item.empty() || colon == std::string::npos)
      throw ConfigError(kTermsField, "'" + item + "' is not name:coefficient",
                        "write e.g. batch_size:0.01, n_layer*d_model:1e-5");
    CostTerm term;
    const std::string coef = trim(item.substr(colon + 1));
    char* end = nullptr;
    term.coef = std::strtod(coef.c_str(), &end);
    if (coef.empty() || *end != '\0' || !std::isfinite(term.coef))
      throw ConfigError(kTermsField, "'" + coef + "' is not a number", "write a coefficient such as 0.01");
    for (const std::string& name : split(item.substr(0, colon), '*')) {
      if (!space.find(name))
        throw ConfigError(kTermsField, "'" + name + "' is not a hyperparameter of [space]",
                          "name hyperparameters the experiment tunes (fixed costs belong in simulate.step_seconds)");
      term.names.push_back(name);
    }
    terms.push_back(std::move(term));
  }
  return terms;
}

CostModel::CostModel(const SimulateOptions& options, const Space& space, uint64_t seed, double synthetic_step_cost_ms)
    : options_(options), terms_(parse_cost_terms(options.step_seconds_per, space)), seed_(seed) {
  base_ = options.step_seconds > 0 ? options.step_seconds
          : synthetic_step_cost_ms > 0 ? synthetic_step_cost_ms / 1000
                                       : 1.0;
  // The streams' seeds once: derive_seed hashes its tag text.
  straggler_stream_ = derive_seed(seed, "simulate.straggler");
  jitter_stream_ = derive_seed(seed, "simulate.jitter");
  failure_stream_ = derive_seed(seed, "simulate.failure");
}

double CostModel::unit(uint64_t stream, uint64_t a, uint64_t b) const {
  return static_cast<double>(mix64(mix64(stream + a) + b) >> 11) * 0x1.0p-53;
}

double CostModel::base_step_seconds(const HParams& hp) const {
  double s = base_;
  for (const CostTerm& term : terms_) {
    double product = term.coef;
    for (const std::string& name : term.names) {
      const ParamValue* v = hp.find(name);
      if (!v || !v->is_numeric())
        throw ConfigError(kTermsField, "hyperparameter '" + name + "' has no numeric value (" + hp.to_string() + ")",
                          "name numeric hyperparameters only");
      product *= v->as_double();
    }
    s += product;
  }
  if (!(s > 0))
    throw ConfigError(kTermsField, "a step of " + hp.to_string() + " costs " + std::to_string(s) + " s",
                      "choose step_seconds and coefficients that make every step cost more than 0 s");
  return s;
}

bool CostModel::is_straggler(int group) const {
  return options_.straggler_fraction > 0 && unit(straggler_stream_, static_cast<uint64_t>(group), 0) <
                                                options_.straggler_fraction;
}

double CostModel::step_seconds(int group, int64_t trial, const HParams& hp, int64_t step) const {
  return scaled(group, trial, step, base_step_seconds(hp));
}

double CostModel::scaled(int group, int64_t trial, int64_t step, double base) const {
  double s = base;
  if (is_straggler(group)) s *= options_.straggler_factor;
  if (options_.jitter > 0)
    s *= 1 + options_.jitter * (2 * unit(jitter_stream_, static_cast<uint64_t>(trial), static_cast<uint64_t>(step)) - 1);
  return s;
}

int64_t CostModel::failure_step(int64_t trial, int attempt, int64_t start, int64_t stop) const {
  if (options_.failure_probability <= 0 || stop <= start) return -1;
  const uint64_t key = static_cast<uint64_t>(trial) * 1000003u + static_cast<uint64_t>(attempt);
  if (unit(failure_stream_, key, 0) >= options_.failure_probability) return -1;
  const int64_t span = stop - start;
  const int64_t offset = static_cast<int64_t>(unit(failure_stream_, key, 1) * static_cast<double>(span));
  return start + 1 + std::min(offset, span - 1);
}

}  // namespace mpitune
