// Scheduler: decides how long trials run, which stop, pause, resume or clone.
//
// All losses are "lower is better": the coordinator negates the metric when mode = max and
// passes +inf for non-finite values. Steps are optimizer steps of the trial.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mpitune/sched/decision.hpp"

namespace mpitune {

// One decision channel: every call returns all the decisions it made, as one value, and the
// coordinator carries them out before it calls the scheduler again. Nothing is queued for later
// and no call needs a second one to collect what it decided.
//
// Decisions about trials OTHER than the one a call concerned ("others") come with its result.
// They only ever concern paused trials (no group holds them), and only two actions occur:
//  - Stop: the paused trial ends as stopped (Hyperband: it lost when its rung was judged, which
//    happened when the rung's last result came in, possibly from another trial, a failure or
//    next(false)).
//  - Rebase: the paused trial takes `hparams` and, when next() later hands out its Resume,
//    starts from `source`'s state instead of its own (synchronous PBT).
// Asynchronous schedulers (FIFO, ASHA) never make any. The coordinator carries the others out
// first, in order, then the call's own result.
struct TrialDecision {
  TrialId trial = -1;
  Decision decision;
};
using OtherDecisions = std::vector<TrialDecision>;

// on_report, on_segment_end: the decision about the trial that reported, and the others.
// Implicit from a Decision: a call that decided nothing about other trials returns just that.
struct [[nodiscard]] Decisions {
  Decision own;
  OtherDecisions others;

  Decisions() = default;
  Decisions(Decision own_decision, OtherDecisions other_decisions = {})
      : own(std::move(own_decision)), others(std::move(other_decisions)) {}
};

// next(): the work for the idle group that asked, and the others (implicit from an Assignment).
struct [[nodiscard]] NextWork {
  Assignment assignment;
  OtherDecisions others;

  NextWork() = default;
  NextWork(Assignment a, OtherDecisions other_decisions = {})
      : assignment(a), others(std::move(other_decisions)) {}
};

// on_trial_start(): the step to run the new trial to, and the others (implicit from a step).
struct [[nodiscard]] TrialStart {
  int64_t until = 0;
  OtherDecisions others;

  TrialStart() = default;
  TrialStart(int64_t until_step, OtherDecisions other_decisions = {})
      : until(until_step), others(std::move(other_decisions)) {}
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string name() const = 0;

  // An idle group asks for work. can_start_new is false once the coordinator will not create
  // more trials (max_trials reached, searcher exhausted, time budget spent).
  virtual NextWork next(bool can_start_new) = 0;
  // The coordinator created trial `id` for a NewTrial assignment: the step to run it to.
  virtual TrialStart on_trial_start(TrialId id, const HParams& hp, const Assignment& a) = 0;
  // A report inside a segment (every eval interval). Only Continue and Stop are honoured as the
  // own decision here.
  virtual Decisions on_report(TrialId id, int64_t step, double loss) {
    (void)id, (void)step, (void)loss;
    return Decision{};
  }
  // The trial reached the end of its segment (the `until` it was given) with this loss.
  virtual Decisions on_segment_end(TrialId id, int64_t step, double loss) = 0;
  // The trial failed (exception, non-finite loss) or was stopped from outside (time budget,
  // early stopping): the decisions this made about other trials.
  [[nodiscard]] virtual OtherDecisions on_trial_failed(TrialId id) = 0;
  // The largest step any trial may reach (max_t), which also sets the LR schedule's length.
  virtual int64_t max_steps() const = 0;
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
