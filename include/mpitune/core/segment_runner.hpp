// One segment's training loop, step by step: the one rule for what a group trains, reports and
// sends between a Segment order and its SegmentDone, shared by the MPI worker
// (runtime/worker.cpp) and the simulator (coord/simulator.cpp).
//
// The runner trains one step per advance(): it reports every train.log_interval steps, and
// evaluates (in the same report) every train.eval_interval steps, both only before the
// segment's last step; at the last step, or at the first advance() after a stop was requested,
// it evaluates (unless the stop asked not to) and sends SegmentDone. A step or an evaluation
// that throws, or a non-finite training loss, fails the trial (TrialFailed, the trainable
// released). Its surroundings come through a SegmentPort:
//  - the MPI worker's port sends from the group's leader to rank 0, agrees on failures with one
//    reduction over the group's ranks, reads the steady clock and marks liveness for the
//    heartbeat; every rank of the group drives its own runner through the same calls;
//  - the simulator's port queues what the group sends (the simulator hands it to the
//    coordinator after the call), agrees trivially, reads the virtual clock and injects the
//    cost model's failures.
// Orders that arrive while a step runs (StopTrial, and the worker's Preempt, SendState and
// periodic checkpoints) are the driver's: it carries them out between advance() calls, which
// is where a real group sees them (after the step in progress, so that step counts).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mpitune/core/config.hpp"
#include "mpitune/core/protocol.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

class SegmentPort {
 public:
  virtual ~SegmentPort() = default;
  // Seconds on the port's clock (steady or virtual); differences only.
  virtual double now() = 0;
  // A message to the coordinator (Report, SegmentDone, TrialFailed).
  virtual void send(const Message& m) = 0;
  // The group's verdict at an agreement point: `err`, this rank's error if any, becomes the
  // group's failure reason (the first failing rank's) or none. Every rank of the group calls it
  // at the same points, failing or not.
  virtual std::optional<std::string> agree_failure(const std::optional<std::string>& err) = 0;
  // A failure to inject after step `step` trained well (the simulator's cost model); none by
  // default.
  virtual std::optional<std::string> injected_failure(int64_t step) {
    (void)step;
    return std::nullopt;
  }
  // The group is getting on (before an evaluation): the worker's heartbeat may beat.
  virtual void progress() {}
};

class SegmentRunner {
 public:
  // What one advance() did.
  enum class Outcome {
    Trained,  // a step trained; the segment goes on
    Done,     // the segment ended (SegmentDone sent), after a last step or a stop
    Failed,   // the trial failed (TrialFailed sent, the trainable released)
  };

  SegmentRunner(const TrainOptions& train, Trainable& trainable, SegmentPort& port);

  // Starts segment `seg` of group `group`: the trainable holds the trial at seg.start (or
  // later: a clone's newer state, with seg.stop moved already). `started`: when the segment's
  // order arrived, on the port's clock (its seconds include loading or receiving the state);
  // `trial_tokens`: the tokens the trial processed before (0 for a fresh trial).
  void begin(int group, const SegmentMsg& seg, double started, int64_t trial_tokens);
  // Trains the next step, or ends the segment when a stop was requested or its last step is
  // done. Only while running().
  Outcome advance();
  // A StopTrial of this segment's trial: the next advance() ends it (evaluating if asked).
  void request_stop(bool evaluate);

  bool running() const { return running_; }
  bool stop_requested() const { return stop_requested_; }
  const SegmentMsg& segment() const { return seg_; }
  // No step since the last report (or since begin): where a checkpoint resumes with the same
  // report intervals.
  bool at_report_boundary() const { return loss_count_ == 0; }
  // The trial's tokens so far, for the next segment of the same trial.
  int64_t trial_tokens() const { return trial_tokens_; }
  // Whether the last advance() trained a step (a simulator counts busy seconds by it).
  bool trained_last() const { return trained_last_; }
  // Seconds since the segment started on the port's clock.
  double elapsed() { return port_.now() - started_; }

 private:
  ReportMetrics metrics_now(double eval_loss);
  // Evaluates on every rank (the sharded model's collectives); the group's failure, if any.
  std::optional<std::string> evaluate(double& eval_loss);
  Outcome fail(int64_t step, const std::string& reason);
  Outcome finish();

  const TrainOptions& train_;
  Trainable& trainable_;
  SegmentPort& port_;
  int group_ = -1;
  SegmentMsg seg_;
  bool running_ = false;
  bool stop_requested_ = false;
  bool evaluate_at_stop_ = false;
  bool trained_last_ = false;
  bool trained_any_ = false;  // a step of this segment trained
  double started_ = 0;
  double interval_started_ = 0;
  double loss_sum_ = 0;
  int64_t loss_count_ = 0;
  int64_t interval_tokens_ = 0;
  int64_t trial_tokens_ = 0;
  double retention_loss_ = 0;
  StepResult last_;
};

}  // namespace mpitune
