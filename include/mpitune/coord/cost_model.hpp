// CostModel: what a trial costs in the discrete-event simulator (`mpitune simulate`), from the
// config's [simulate] section. Pure and seeded: every draw is a hash of (seed, what it is for,
// group, trial, step), never a shared stream, so a cost does not depend on the order in which
// the simulator asks for it, and the same seed gives the same experiment.
//
//   step seconds of trial t, step s on group g:
//       (step_seconds + sum_k coef_k * prod_{name in term_k} value(t, name))   the base
//     * straggler_factor  when group g is a straggler (probability straggler_fraction, drawn once
//                         per group: a slow node stays slow)
//     * (1 + jitter * u)  u uniform in [-1, 1), drawn per (trial, step)
//   step_seconds_per is "name:coef, name*name:coef, ..."; names are numeric [space]
//   hyperparameters (categoricals of numbers too), a term's product multiplies their values:
//   "batch_size*n_layer:0.002" is proportional to batch size and depth.
//   step_seconds = 0 takes synthetic.step_cost_ms / 1000 (the real synthetic run's step), or 1 s.
//
//   failure: each segment a trial starts (its `attempt`-th, counted per trial from 0, so a retry
//   draws again) fails with probability failure_probability, at a step drawn uniformly among the
//   segment's steps (start, stop].
//
//   checkpoint_seconds() = state_gb * checkpoint_seconds_per_gb (writing a pause checkpoint, or
//   reading one to resume), transfer_seconds() = state_gb * transfer_seconds_per_gb (a PBT
//   exploit's state from another group or its host cache).
//
//   round_trip_seconds() = round_trip_s: every segment's first step starts this long after the
//   order (the answer that freed the group going to rank 0 and the order coming back; ~1.5 ms
//   on one host, docs/scaling.md); idle time, neither busy nor I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"
#include "mpitune/core/hparams.hpp"

namespace mpitune {

struct CostTerm {
  std::vector<std::string> names;  // multiplied together
  double coef = 0;
};

// Parses step_seconds_per ("batch_size:0.01, n_layer*d_model:1e-5"); "" gives no term. Throws
// ConfigError("simulate.step_seconds_per", ...) on a malformed term or a name not in `space`.
std::vector<CostTerm> parse_cost_terms(const std::string& text, const Space& space);

class CostModel {
 public:
  // Throws ConfigError as parse_cost_terms does.
  CostModel(const SimulateOptions& options, const Space& space, uint64_t seed, double synthetic_step_cost_ms = 0);

  // The base before stragglers and jitter. Throws ConfigError when a term's hyperparameter is
  // text or missing from `hp`.
  double base_step_seconds(const HParams& hp) const;
  double step_seconds(int group, int64_t trial, const HParams& hp, int64_t step) const;
  // step_seconds() from a base computed once per segment (the simulator's fast path).
  double scaled(int group, int64_t trial, int64_t step, double base) const;
  bool is_straggler(int group) const;
  // The step at which the `attempt`-th segment of `trial`, from step `start` to `stop`, fails;
  // -1 when it does not.
  int64_t failure_step(int64_t trial, int attempt, int64_t start, int64_t stop) const;
  double checkpoint_seconds() const { return options_.state_gb * options_.checkpoint_seconds_per_gb; }
  double transfer_seconds() const { return options_.state_gb * options_.transfer_seconds_per_gb; }
  double round_trip_seconds() const { return options_.round_trip_s; }

 private:
  double unit(uint64_t stream, uint64_t a, uint64_t b) const;  // uniform [0, 1)

  SimulateOptions options_;
  std::vector<CostTerm> terms_;
  uint64_t seed_;
  double base_;
  uint64_t straggler_stream_ = 0, jitter_stream_ = 0, failure_stream_ = 0;
};

}  // namespace mpitune
