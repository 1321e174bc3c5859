// The search space: one domain per hyperparameter, parsed from the [space] section.
//
//   lr           = loguniform(1e-4, 1e-2)    log-uniform on [low, high], low > 0
//   weight_decay = uniform(0, 0.2)           uniform on [low, high)
//   n_layer      = int(2, 6)                 integer, both bounds inclusive
//   batch_size   = choice(8, 16, 32)         categorical; numbers stay numbers, text stays text
//   warmup_steps = grid(0, 10, 100)          enumerated by the grid searcher; sampled uniformly
//                                            from its values by the others
//
// Every domain also maps to and from the unit interval (used by BOHB's KDE and PBT's explore):
// uniform/loguniform/int linearly (loguniform in log space), choice/grid by index.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "mpitune/core/hparams.hpp"
#include "mpitune/core/rng.hpp"

namespace mpitune {

struct IniSection;

enum class DomainKind { Uniform, LogUniform, Int, Choice, Grid };

const char* domain_kind_name(DomainKind k);  // "uniform", "loguniform", "int", "choice", "grid"

struct Domain {
  std::string name;
  DomainKind kind = DomainKind::Uniform;
  double low = 0, high = 0;          // Uniform, LogUniform, Int
  std::vector<ParamValue> values;    // Choice, Grid

  bool is_categorical() const { return kind == DomainKind::Choice || kind == DomainKind::Grid; }
  ParamValue sample(Rng& rng) const;
  // Unit-interval coordinate of a value of this domain; a categorical gives its index (not scaled).
  double to_unit(const ParamValue& v) const;
  // Inverse of to_unit for numeric domains (clipped into [0,1], ints rounded); for categoricals
  // the argument is an index.
  ParamValue from_unit(double u) const;
  // A numeric value clipped into [low, high] (ints rounded), as PBT's explore needs.
  ParamValue clip(double x) const;
  // "loguniform(0.0001, 0.01)", "choice(8, 16, 32)", for tables and the HDF5 /space dataset.
  std::string describe() const;
};

class Space {
 public:
  Space() = default;
  explicit Space(std::vector<Domain> domains);

  // Parses the [space] section. Errors are ConfigError naming "space.<name>" and the fix
  // (unknown kind, wrong argument count, empty or inverted range, loguniform low <= 0, ...).
  static Space parse(const IniSection& section);
  // Parses one spec such as "loguniform(1e-4, 1e-2)" for the hyperparameter `name`.
  static Domain parse_domain(const std::string& name, const std::string& spec);

  const std::vector<Domain>& domains() const { return domains_; }
  size_t size() const { return domains_.size(); }
  const Domain* find(const std::string& name) const;

  // One value per domain, in space order.
  HParams sample(Rng& rng) const;

 private:
  std::vector<Domain> domains_;
};

// A whole string as a finite number ("1e-3", "16"); nullopt for anything else ("", "1e-3x",
// "inf", out of range). How domain specs and initial configurations read their numbers.
std::optional<double> parse_finite_number(const std::string& s);

}  // namespace mpitune
