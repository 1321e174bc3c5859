// The worker loop of one rank of a trial group.
//
// The leader (group rank 0) talks to the coordinator: Ready, then for each order it receives
// it broadcasts the order to its group, and every rank carries it out together: a Segment
// trains the trial from `start` to `stop`, reporting on the way; a Shutdown ends the loop.
// At each step boundary the group agrees on two things with one reduction: did any rank fail
// (then the trial fails on all ranks, with the failing rank's reason), and did the coordinator
// order a stop (time budget, a scheduler's early stop, SIGTERM).
#pragma once

#include "mpitune/comm/channel.hpp"
#include "mpitune/comm/group_control.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

class Worker {
 public:
  Worker(const ExperimentConfig& cfg, const Topology& topo, GroupControl& control, Channel& channel,
         Trainable& trainable);
  // Runs until Shutdown.
  void run();

 private:
  void run_segment(const SegmentMsg& seg);
  bool stop_requested(TrialId trial);
  void send(const Message& m);

  const ExperimentConfig& cfg_;
  const Topology& topo_;
  GroupControl& control_;
  Channel& channel_;
  Trainable& trainable_;
  TrialId current_trial_ = -1;  // the trial whose state this group holds
  int64_t trial_tokens_ = 0;    // tokens the current trial has seen, over all its segments
};

}  // namespace mpitune
