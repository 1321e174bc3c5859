// One point of the scaling study (bench/scaling_study.cpp, docs/scaling.md): a scheduler's
// experiment on N simulated groups with the study's cost model, run by the real simulator
// (CoordinatorCore, schedulers, searchers) in a forked child, so that each point's peak RSS is
// its own and a point that runs out of memory does not end the sweep.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mpitune {
namespace scaling {

// The schedulers of the study, by the names the CSV and the plots use: fifo, asha, hyperband,
// bohb, pbt; fifo-fixed is FIFO without jitter or stragglers, whose utilisation is analytic.
const std::vector<std::string>& study_schedulers();

struct PointSpec {
  std::string scheduler;  // one of study_schedulers()
  int groups = 16;
  int64_t trials = 0;     // max_trials; PBT: the population
  int64_t max_t = 0;      // 0: the scheduler's study default (point_config)
  // The cost model: [simulate] keys (step_seconds, jitter, straggler_fraction, straggler_factor).
  double step_seconds = 1, jitter = 0, straggler_fraction = 0, straggler_factor = 1;
  uint64_t seed = 0;
  int time_limit_s = 0;   // the child is ended after this many seconds (SIGALRM); 0: none
};

struct PointResult {
  PointSpec spec;
  double elapsed_s = 0, ideal_s = 0, utilisation = 0, overhead = 0;
  double analytic_utilisation = -1;  // -1: none (only fixed-cost FIFO has one)
  double analytic_elapsed_s = -1;
  int64_t trials_run = 0, steps = 0, decisions = 0, events = 0;
  double wall_s = 0;         // the simulator's own seconds
  double peak_rss_mb = 0;    // the child's peak resident set
  std::string error;         // non-empty: the point failed (the child's message or signal)
  bool timed_out = false;    // ended by time_limit_s (error says so too)
};

// The point's budget in steps: max_t, or the study's default for its scheduler (FIFO 9; ASHA,
// Hyperband, BOHB 81 with rungs 1, 3, 9, 27, 81; PBT 100).
int64_t effective_max_t(const PointSpec& spec);

// The INI text of a point: the study's synthetic learning-curve experiment with the point's
// scheduler, budget and cost model. Exposed so the documentation can quote what ran.
std::string point_config(const PointSpec& spec);

// FIFO with fixed step times: every trial takes max_t x step_seconds, the groups take them in
// waves, so elapsed = ceil(trials / groups) waves and utilisation = trials / (groups x waves).
double fifo_analytic_utilisation(int64_t trials, int groups);

// Runs the point in a forked child and waits for it.
PointResult run_point(const PointSpec& spec);

}  // namespace scaling
}  // namespace mpitune
