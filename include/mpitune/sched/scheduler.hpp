// Scheduler: decides how long trials run, which stop, pause, resume or clone.
//
// All losses are "lower is better": the coordinator negates the metric when mode = max and
// passes +inf for non-finite values. Steps are optimizer steps of the trial.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mpitune/sched/decision.hpp"

namespace mpitune {

// A decision about one trial, as take_decisions() hands them over.
struct TrialDecision {
  TrialId trial = -1;
  Decision decision;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string name() const = 0;

  // An idle group asks for work. can_start_new is false once the coordinator will not create
  // more trials (max_trials reached, searcher exhausted, time budget spent).
  virtual Assignment next(bool can_start_new) = 0;
  // The coordinator created trial `id` for a NewTrial assignment; returns the step to run it to.
  virtual int64_t on_trial_start(TrialId id, const HParams& hp, const Assignment& a) = 0;
  // A report inside a segment (every eval interval). Only Continue and Stop are honoured here.
  virtual Decision on_report(TrialId id, int64_t step, double loss) {
    (void)id, (void)step, (void)loss;
    return Decision{};
  }
  // The trial reached the end of its segment (the `until` it was given) with this loss.
  virtual Decision on_segment_end(TrialId id, int64_t step, double loss) = 0;
  // The trial failed (exception, non-finite loss) or was stopped from outside (time budget).
  virtual void on_trial_failed(TrialId id) = 0;
  // The largest step any trial may reach (max_t), which also sets the LR schedule's length.
  virtual int64_t max_steps() const = 0;

  // Decisions about trials OTHER than the one the last call concerned, collected since the last
  // take_decisions() and handed over once (the list is cleared). The coordinator calls it after
  // every scheduler call (next, on_trial_start, on_report, on_segment_end, on_trial_failed) and
  // carries them out. They only ever concern paused trials (no group holds them), and only two
  // actions occur:
  //  - Stop: the paused trial ends as stopped (Hyperband: it lost when its rung was judged,
  //    which happened when the rung's last result came in, possibly from another trial).
  //  - Clone with until == 0: the paused trial takes `hparams` and, when next() later hands out
  //    its Resume, starts from `source`'s state instead of its own (synchronous PBT).
  // Asynchronous schedulers (FIFO, ASHA) never produce any.
  virtual std::vector<TrialDecision> take_decisions() { return {}; }
};

struct FifoOptions {
  int64_t max_t = 100;
};

// ASHA options (REFERENCES.md): milestones grace_period * eta^k up to max_t.
struct AshaOptions {
  int64_t grace_period = 1;
  int64_t max_t = 81;
  double reduction_factor = 3;
  enum class Rule { TopK, Percentile } rule = Rule::TopK;
};

// Every trial runs to max_t.
std::unique_ptr<Scheduler> make_fifo_scheduler(const FifoOptions& o);
// Asynchronous successive halving, stopping variant.
std::unique_ptr<Scheduler> make_asha_scheduler(const AshaOptions& o);

}  // namespace mpitune
