// The worker loop of one rank of a trial group.
//
// The leader (group rank 0) talks to the coordinator: Ready, then for each order it receives
// it broadcasts the order to its group, and every rank carries it out together:
//  - Segment: train the trial from `start` to `stop`, reporting on the way; the trial is
//    initialised fresh, continued (the group holds it), resumed from a checkpoint, or cloned
//    (PBT: the state arrives rank to rank from the group that runs the source trial);
//  - Checkpoint: write the held trial's state and let it go;
//  - SendState (PBT, also while training): send the held trial's state to another group;
//  - Shutdown: end the loop.
// At each step boundary the group agrees, with one reduction, whether any rank failed (then
// the trial fails on all ranks, with the failing rank's reason), and carries out the control
// orders the leader received meanwhile (StopTrial, SendState), so every rank acts on the same
// orders at the same step.
#pragma once

#include "mpitune/comm/channel.hpp"
#include "mpitune/comm/group_control.hpp"
#include "mpitune/comm/state_transfer.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

class Worker {
 public:
  Worker(const ExperimentConfig& cfg, const Topology& topo, GroupControl& control, Channel& channel,
         StateTransfer& transfer, Trainable& trainable);
  // Runs until Shutdown.
  void run();

 private:
  void run_segment(SegmentMsg seg);
  void save_checkpoint(const CheckpointMsg& c);
  void serve_state(const SendStateMsg& s);
  void final_eval(const FinalEvalMsg& f);
  // Leader: the control orders (StopTrial, SendState) that arrived; every rank: the same list.
  std::vector<Message> step_boundary_orders();
  void send(const Message& m);

  const ExperimentConfig& cfg_;
  const Topology& topo_;
  GroupControl& control_;
  Channel& channel_;
  StateTransfer& transfer_;
  Trainable& trainable_;
  TrialId current_trial_ = -1;  // the trial whose state this group holds
  HParams current_hparams_;
  int64_t trial_tokens_ = 0;    // tokens the current trial has seen, over all its segments
};

}  // namespace mpitune
