// The scheduler-specific parts of the report, rebuilt from the result file's rows:
//  - how many trials ran at each budget: per bracket for Hyperband/BOHB, per milestone for
//    ASHA (the successive-halving funnel);
//  - the hyperparameter schedule of a PBT trial: which trial's weights it carries over which
//    steps, with which hyperparameters, following /pbt_transfers back through its lineage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct BudgetCount {
  int bracket = -1;    // -1: the scheduler has no brackets (ASHA, FIFO)
  int64_t budget = 0;  // steps
  int64_t trials = 0;  // trials evaluated at exactly this many steps
};
// Trials evaluated (a finite value of the metric's loss column) at each (bracket, step) where a
// scheduler decision was taken, in bracket then budget order.
std::vector<BudgetCount> budget_counts(const ExperimentData& run);

struct ScheduleSpan {
  int64_t from_step = 0;
  int64_t to_step = 0;
  TrialId weights_of = -1;  // the trial that trained these steps of the final weights
  std::string hparams;      // HParams::to_string() it trained them with
};
// The schedule behind `trial`'s final weights, first span first. Without transfers it is one
// span with the trial's own hyperparameters.
std::vector<ScheduleSpan> pbt_schedule(const ExperimentData& run, TrialId trial);

// Markdown sections ("" when there is nothing to show).
std::string format_budget_table(const ExperimentData& run);
std::string format_pbt_schedule(const ExperimentData& run, TrialId trial);

}  // namespace mpitune
