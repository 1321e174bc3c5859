// The figures of one experiment's row in the cost table: how good its best result is, what it
// cost in device time to find it, what its best configuration scored on the test split, and how
// much it forgot.
//
// "Best" is the rule of store/best_trial.hpp (the best final result at the full budget, else
// flagged as found at a lower budget), so that a method is not credited with a lucky early value
// that its trial never kept; the best value at any step stays available next to it. Devices are
// accelerators (the coordinator rank is not one), so device-minutes are what an allocation of
// GPUs (or worker cores) costs.
//
// An experiment that ran in several jobs (/segments: a first run, then each resume) is charged
// for the jobs only: elapsed and device time are summed over its segments (each with its own
// devices), and the time to a result leaves out the gaps between jobs before it (the queue
// wait of a requeued job is not compute). Files without segments (schema < 4) are charged
// from the experiment's start as before.
#pragma once

#include <cstdint>
#include <string>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct RunCost {
  std::string name;
  std::string method;  // "<scheduler>+<searcher>", e.g. "asha+random"
  std::string metric;  // "eval_loss" | "train_loss"
  std::string mode;    // "min" | "max"
  int64_t max_t = 0;   // the full budget in steps (0: not recorded, files of schema < 3)

  // The best trial by select_best_trial and its final result. NaN / -1 when no trial has one.
  TrialId best_trial = -1;
  double best = kNaN;
  int64_t best_budget = 0;          // the step its final result stands for
  int64_t best_step = -1;           // the step it was reported at (< best_budget: early-stopped)
  bool best_at_full_budget = false;

  // The best value of the metric in any /metrics row (any trial, any step), first reached.
  double best_any = kNaN;
  TrialId best_any_trial = -1;
  int64_t best_any_step = -1;

  // The test evaluation of the best configuration: the /final "retrain" row when there is one,
  // else the "best" row. Empty label and NaN when the file has neither.
  std::string test_label;
  TrialId test_trial = -1;
  int64_t test_step = 0;
  double test_loss = kNaN;
  double test_ci_low = kNaN;
  double test_ci_high = kNaN;
  int64_t test_documents = 0;
  int bootstrap = 0;

  // Seconds from the experiment's start to the /metrics row of the best trial's final result,
  // less the gaps between its jobs before that row (see active_time).
  double time_to_best_s = kNaN;
  int devices = 0;                       // accelerators, see experiment_devices
  double device_minutes_to_best = kNaN;  // devices x time_to_best_s / 60 (per job's devices)
  double device_minutes_total = kNaN;    // devices x elapsed / 60, see compute_run_cost

  // Forgetting: the /final "base" row (the model before tuning) against the best configuration.
  bool has_base = false;
  double base_test_loss = kNaN;
  double base_retention_loss = kNaN;
  // The retention loss of the test row above; when that row has none, the one reported in the
  // /metrics row of the best trial's final result.
  double best_retention_loss = kNaN;
};

// The accelerators an experiment ran on: ExperimentInfo::devices, or world_size - 1 (the worker
// ranks) in files that do not record it.
int experiment_devices(const ExperimentInfo& info);

// The metric's value in a /metrics row (eval_loss or train_loss column).
double metric_value(const MetricRecord& m, const std::string& metric);

// Time spent running up to wall-clock `time` (seconds since the epoch), and the device-minutes
// of it. Without segments: time - start_time, and the experiment's devices for all of it. With
// segments (in index order): time - start_time less the gap after each segment that the next
// began before `time` (gap = next start - its start - its elapsed_s, never negative), each
// stretch charged at its segment's devices (SegmentRecord::devices; 0: experiment_devices).
struct ActiveTime {
  double seconds = kNaN;
  double device_minutes = kNaN;
};
ActiveTime active_time(const ExperimentData& run, double time);

// The jobs of an experiment, from /segments (all 0 / NaN without segments).
struct JobsSummary {
  int jobs = 0;             // segments
  std::string last_status;  // the last job's: running | finished | interrupted | aborted
  int interrupted = 0;      // earlier jobs that ended "interrupted" (a stop signal: resumable) ...
  int aborted = 0;          // ... and the others (aborted, or died without a word)
  double compute_s = kNaN;  // the jobs' elapsed seconds, summed
  double wall_s = kNaN;     // from the first job's start to the last one's end (or last word)
};
JobsSummary summarize_jobs(const ExperimentData& run);

// Throws ConfigError when the experiment's metric is not one the metrics table has. Elapsed
// time is /summary's (with segments: the sum of theirs), else up to the last recorded row.
RunCost compute_run_cost(const ExperimentData& run);

// The cost ratio: device-minutes to the best divided by the reference's; NaN when either is
// undefined or the reference's is not positive.
double cost_ratio(double device_minutes_to_best, double reference_device_minutes_to_best);
double cost_ratio(const RunCost& run, const RunCost& reference);

// Quality-aware cost: when the run first reported (any trial, any step) a metric value at least
// as good as `target` (the reference's best at full budget). NaN target: not reached.
struct TargetReach {
  bool reached = false;
  double time_s = kNaN;          // from the experiment's start (less gaps between jobs)
  double device_minutes = kNaN;  // devices x time_s / 60 (per job's devices)
};
TargetReach time_to_reach(const ExperimentData& run, double target);

}  // namespace mpitune
