// The experiment report: what `mpitune report` prints for one or more result files.
//
// One row per experiment in a cost table (how good the best result is, and what it cost in
// device time to get there), the definitions of the columns under it, then per experiment the
// best configuration and how many trials ended in each status. Markdown is for people; CSV is
// for scripts: one header line and one row per experiment, nothing else.
//
// Pure C++ over ExperimentData (no HDF5), so it is tested with hand-built data.
#pragma once

#include <string>
#include <vector>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

enum class ReportFormat { Markdown, Csv };

// "md" (or "markdown") | "csv"; anything else is a ConfigError for `field`.
ReportFormat parse_report_format(const std::string& text, const std::string& field = "--format");

// The numbers of one experiment's row. NaN where undefined (no metric reported yet).
struct RunCost {
  std::string name;
  std::string method;  // "<scheduler>+<searcher>", e.g. "asha+random"
  std::string metric;  // "eval_loss" | "train_loss"
  std::string mode;    // "min" | "max"
  double best = kNaN;  // best metric value over all /metrics rows, by mode
  TrialId best_trial = -1;
  int64_t best_step = -1;
  double time_to_best_s = kNaN;  // from start_time to the row where `best` was first reached
  int devices = 0;               // world size, rank 0 included
  double device_minutes_to_best = kNaN;  // devices x time_to_best_s / 60
  double device_minutes_total = kNaN;    // summary device-seconds / 60, see compute_run_cost
};

// Throws ConfigError when the experiment's metric is not one the metrics table has.
RunCost compute_run_cost(const ExperimentData& run);

// The cost ratio of `run` against `reference`: device-minutes to best divided by the
// reference's; NaN when either is undefined or the reference's is zero.
double cost_ratio(const RunCost& run, const RunCost& reference);

// The whole report. `reference` (may be null) is the experiment costs are compared with; when
// it is not one of `runs` (by address) it is listed first.
std::string format_report(const std::vector<ExperimentData>& runs, const ExperimentData* reference,
                          ReportFormat fmt);

}  // namespace mpitune
