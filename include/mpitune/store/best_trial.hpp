// Which trial is the experiment's best, defined so that methods compare fairly.
//
// A trial's final result is its last finite metric value (TrialRecord::last_metric) at the step
// it was reported (metric_step); an early-stopped trial ended by its own rule, so its final
// result stands for the full budget. The best trial is the best final result among the trials
// whose final result is at the largest budget any trial's is: max_t when any trial reached it,
// else a lower budget, which reports flag ("best at a lower budget (N steps)"): a trial that
// trained 10 steps never beats one that trained 1000 on a lucky early value. Failed trials and
// trials with no finite metric take no part. Ties: the lower trial id.
//
// The coordinator keeps (experiment.keep = best) and evaluates on the test split the trial this
// selects; `mpitune report` and the HTML report use the same rule.
#pragma once

#include <cstdint>
#include <vector>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct BestChoice {
  TrialId trial = -1;      // -1: no trial has a final result
  double metric = kNaN;
  int64_t budget = 0;      // the step of its final result (max_t for an early-stopped trial)
  bool at_full_budget = false;  // budget >= max_t
};

// The budget a trial's final result stands for (see above); -1 when it has none.
int64_t final_budget(const TrialRecord& t, int64_t max_t);

BestChoice select_best_trial(const std::vector<const TrialRecord*>& trials, int64_t max_t, bool maximize);
BestChoice select_best_trial(const std::vector<TrialRecord>& trials, int64_t max_t, bool maximize);

}  // namespace mpitune
