// The worker loop of one rank of a trial group.
//
// The leader (group rank 0) talks to the coordinator: Ready, then for each order it receives
// it broadcasts the order to its group, and every rank carries it out together:
//  - Segment: train the trial from `start` to `stop`, reporting on the way; the trial is
//    initialised fresh, continued (the group holds it), resumed from a checkpoint, or cloned
//    (PBT: the state arrives rank to rank from the group that runs the source trial);
//  - Checkpoint: write the held trial's state and let it go;
//  - SendState (PBT, also while training): send the held trial's state to another group;
//  - Preempt (the job must end soon): write the held trial's checkpoint to the given folder
//    and answer Preempted; during a segment at its next step boundary, which abandons the
//    segment (no SegmentDone: the next job resumes the trial from this checkpoint). A group
//    that holds another trial or none answers ok = false and writes nothing;
//  - Shutdown: end the loop.
// At each step boundary the group agrees, with one reduction, whether any rank failed (then
// the trial fails on all ranks, with the failing rank's reason), and carries out the control
// orders the leader received meanwhile (StopTrial, SendState, Preempt), so every rank acts on
// the same orders at the same step.
//
// Liveness: while the group works the leader sends Heartbeat to rank 0 every
// heartbeat_interval_s(experiment.heartbeat_timeout_s) seconds. With MPI_THREAD_MULTIPLE a
// thread does it (comm/heartbeat.hpp), so a long step, checkpoint write, load or evaluation is
// covered too, for as long as the main thread makes progress; below that thread level MPI may
// only be called by the main thread, and the beats go out at step boundaries only (a phase
// longer than the timeout then ends the job: raise the timeout).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>

#include "mpitune/comm/channel.hpp"
#include "mpitune/comm/group_control.hpp"
#include "mpitune/comm/heartbeat.hpp"
#include "mpitune/comm/state_transfer.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

// How the leader sends heartbeats. Auto: a thread when MPI provides MPI_THREAD_MULTIPLE
// (MpiSession::threads_multiple()), step boundaries otherwise. Tests with an in-process channel
// choose.
enum class HeartbeatMode { Auto, Thread, StepBoundaries };

class Worker {
 public:
  Worker(const ExperimentConfig& cfg, const Topology& topo, GroupControl& control, Channel& channel,
         StateTransfer& transfer, Trainable& trainable, HeartbeatMode heartbeat = HeartbeatMode::Auto);
  ~Worker();
  // Runs until Shutdown.
  void run();

 private:
  class WorkerSegmentPort;  // the segment runner's port on this group (worker.cpp)

  // Initialises the trial's state for the segment, then trains it through a SegmentRunner
  // (core/segment_runner.hpp: the training loop the simulator runs too), carrying out the
  // control orders at each step boundary.
  void run_segment(SegmentMsg seg);
  // The group's verdict on an error of this rank (SegmentPort::agree_failure).
  std::optional<std::string> agree_failure(const std::optional<std::string>& err);
  void save_checkpoint(const CheckpointMsg& c);
  void serve_state(const SendStateMsg& s);
  void final_eval(const FinalEvalMsg& f);
  // Writes the held trial's checkpoint for a Preempt and answers it. `since`: the start of the
  // segment it abandons (its compute goes into the answer's seconds), or none when idle.
  void preempt(const PreemptMsg& p, std::optional<std::chrono::steady_clock::time_point> since);
  // Every rank writes its part of the held trial's checkpoint to `dir` (unless `err`, a reason
  // not to, is given), the group agrees on failure, and the trial is let go. `failure`: the
  // first failed rank and its error text, on the leader.
  struct CheckpointWrite {
    int64_t step = 0;
    std::optional<std::pair<int64_t, std::string>> failure;
  };
  // `keep`: the trial stays held (a periodic checkpoint) instead of being let go.
  CheckpointWrite write_checkpoint(const std::string& dir, std::optional<std::string> err, bool keep = false);
  // Leader: the control orders (StopTrial, SendState, Preempt) that arrived, and a Checkpoint
  // of the running trial when its periodic checkpoint is due (the leader's clock decides, so
  // every rank agrees); every rank: the same list.
  std::vector<Message> step_boundary_orders();
  // A periodic checkpoint of the running trial; the leader tells the coordinator.
  void periodic_checkpoint(const CheckpointMsg& c);
  // Host cache (CheckpointMsg::cache): keeps the held trial's state when it fits within
  // scheduler.pbt_host_cache_mb on every rank of the group (they agree); true when kept.
  bool cache_state(TrialId trial);
  void uncache(TrialId trial);
  // The cached state of `trial` as a transfer payload (ok = false when not cached); `take`
  // removes it from the cache.
  StateTransfer::Payload from_cache(TrialId trial, bool take);
  // Loads seg.checkpoint for seg.trial, which must be at seg.start; the error text, if any.
  std::optional<std::string> load_segment_checkpoint(const SegmentMsg& seg);
  void send(const Message& m);
  // The group is getting on (an order, a step boundary, a phase): the heartbeat thread may beat;
  // without a thread, a heartbeat goes out when one is due.
  void progress();
  void waiting_for_orders();

  const ExperimentConfig& cfg_;
  const Topology& topo_;
  GroupControl& control_;
  Channel& channel_;
  StateTransfer& transfer_;
  Trainable& trainable_;
  TrialId current_trial_ = -1;  // the trial whose state this group holds
  HParams current_hparams_;
  int64_t trial_tokens_ = 0;    // tokens the current trial has seen, over all its segments
  bool heartbeat_thread_ = false;  // beats from a thread (else at step boundaries)
  double heartbeat_interval_s_ = 0;  // 0: no heartbeats
  std::chrono::steady_clock::time_point last_sent_;  // any message counts as a heartbeat
  std::unique_ptr<Heartbeat> heartbeat_;  // leader, thread mode, while run() runs
  // The running segment's periodic checkpoints (SegmentMsg::checkpoint_every_s); every <= 0: none.
  struct Periodic {
    double every_s = 0;
    std::string prefix;
    std::chrono::steady_clock::time_point last;
  } periodic_;
  bool at_report_boundary_ = true;  // no training loss accumulated since the last report
  // Paused trials' states this rank keeps for SendState (its share of each).
  struct CachedState {
    std::vector<uint8_t> bytes;
    int64_t step = 0;
  };
  std::map<TrialId, CachedState> cache_;
  size_t cached_bytes_ = 0;
};

}  // namespace mpitune
