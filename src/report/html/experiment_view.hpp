// What the figures of one experiment share, computed once per experiment: each trial's metric
// series (finite values of the experiment's metric, in step order, with the device-minutes the
// experiment had used when each was reported), the best trial by the rule of best_trial.hpp,
// the trials ranked best-first, and the search space's domains. Private to src/report/html.
//
// Ranking: trials with a final result first, by the budget it stands for (larger first), then
// by the value (better first); then the others by id. So "the best N curves" of an ASHA run are
// its survivors, then the trials stopped at the highest rung, and so on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/search/space.hpp"
#include "mpitune/store/best_trial.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {
namespace html {

struct SeriesPoint {
  int64_t step = 0;
  double time = 0;            // wall clock (seconds since the epoch)
  double device_minutes = 0;  // of the experiment when it was reported (run_cost.hpp's active_time)
  double value = 0;
};

struct TrialView {
  const TrialRecord* record = nullptr;
  std::vector<SeriesPoint> series;  // step order
  int64_t final_budget = -1;        // best_trial.hpp's final_budget
  double final_value = kNaN;        // TrialRecord::last_metric when it has a final result
};

struct ExperimentView {
  const ExperimentData* run = nullptr;
  std::string metric;  // "eval_loss" ...
  bool maximize = false;
  std::vector<TrialView> trials;  // in /trials order
  std::vector<size_t> ranked;     // indices into trials, best first
  BestChoice best;
  int best_index = -1;            // into trials; -1: none
  std::vector<Domain> domains;    // the [space] (inferred from the trials' values when not stored)
  int64_t metric_rows = 0;        // rows with a finite metric value
};

ExperimentView make_experiment_view(const ExperimentData& run);

// Whether `a` is a better metric value than `b` in the experiment's sense (NaN is never better).
bool better(const ExperimentView& v, double a, double b);

// The numeric coordinate of a trial's value on a domain: the value for numeric domains, the
// choice index for categorical ones; NaN when the trial has no such value.
double domain_coordinate(const Domain& d, const HParams& hp);

// Whether step budgets grow geometrically (ASHA, Hyperband, BOHB): learning curves use a log x.
bool geometric_budgets(const ExperimentData& run);

// The metric's axis label: "eval loss" -> "eval loss (nats/token)" for losses of a model, plain
// otherwise.
std::string metric_label(const ExperimentData& run);

// The experiment's name as shown (name, else file, else "experiment").
std::string display_name(const ExperimentData& run);

}  // namespace html
}  // namespace mpitune
