// CoordinatorCore: the coordinator's logic as a pure function of events.
//
// Messages from group leaders (Ready, Report, SegmentDone, TrialFailed, CheckpointDone,
// StateReceived) and clock ticks go in; orders for groups (Segment, StopTrial, Checkpoint,
// SendState, Shutdown) come out, and every fact is written to the ResultStore. It routes between
// the Searcher (what to try) and the Scheduler (how long, stop, pause, clone): neither calls the
// other. Time is passed in, never read, so the same code runs under MPI (wall clock), in unit
// tests and in the simulator (virtual time).
//
// How scheduler decisions become orders:
//  - Continue: the same group goes on with the trial it holds (no state moves).
//  - Pause: the group writes the trial's checkpoint (Checkpoint -> CheckpointDone); the trial
//    can then resume on any group of the same size (Resume assignments from next()). A Resume
//    that comes while the checkpoint is still being written waits for it on its group.
//  - Clone (PBT): the target takes the source's state: sent rank to rank by the group running
//    the source (SendState to it, a Clone segment to the target), or loaded from the source's
//    checkpoint when the source is paused. When the source is gone (finished), the target goes
//    on from its own state with the new hyperparameters (explore only), and the reason says so.
//  - Checkpoints live in one folder per trial under the checkpoint root; a trial that can no
//    longer resume (completed, stopped, failed) has its folder listed by take_deletions().
//  - Kept weights (experiment.keep = best | all): when a trial ends at a segment end (completed
//    or stopped) and is to be kept — every trial, or the experiment's best so far — the group
//    that holds it writes its checkpoint under the keep root (Checkpoint -> CheckpointDone)
//    before it takes other work; a paused trial that ends has its checkpoint folder moved there
//    (take_moves()). With `best`, the folder of the previous best goes once a better one is
//    kept. `mpitune export` reads these folders. "Best" is best_trial.hpp's rule, among the
//    trials that have ended.
//  - Early stopping (train.early_stop_patience): the coordinator counts, per trial, the
//    evaluations of the metric since its last improvement by more than min_delta; at
//    `patience` it ends the trial as early_stopped (StopTrial mid-segment, or at once at a
//    segment end) and the scheduler hears of it as of a trial that left (on_trial_failed), so
//    ASHA/Hyperband give its group other work. It works the same under every scheduler.
//  - The time budget stops running trials with StopTrial{evaluate}: each gets one final
//    evaluation at the step it reached, so it takes part in the choice of the best.
//  - The final evaluation (final_eval): when the search has ended (not after a stop request),
//    the best trial's kept final weights — or, with final_retrain, a new trial of its
//    configuration trained at max_t — are evaluated once on the test split by an idle group
//    (FinalEval -> FinalEvalDone), and the base model too (final_base); each becomes a /final
//    row with a bootstrap interval, then every group is shut down.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"
#include "mpitune/core/protocol.hpp"
#include "mpitune/sched/scheduler.hpp"
#include "mpitune/search/searcher.hpp"
#include "mpitune/store/best_trial.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct CoordinatorOptions {
  int num_groups = 1;
  int group_size = 1;
  int world_size = 2;       // for device-seconds: rank 0 counts too
  int64_t max_trials = 16;
  double time_budget_s = 0; // 0: none
  uint64_t seed = 0;
  Mode mode = Mode::Min;
  std::string metric = "eval_loss";  // eval_loss | train_loss
  double start_time = 0;
  std::string checkpoint_root = "checkpoints";  // folder of the per-trial checkpoint folders
  std::string keep = "none";                    // best | all | none
  std::string keep_root = "kept";               // folder of the kept trials' folders
  // The parameters (total, trainable) of a trial's model; unset: 0, 0 (synthetic objectives).
  std::function<std::pair<int64_t, int64_t>(const HParams&)> param_counts;
  std::string transfer_payload = "model";       // what a PBT exploit moves: model | adapters
  int64_t early_stop_patience = 0;              // 0: off
  double early_stop_min_delta = 0;
  bool final_eval = false;      // evaluate the best on the test split at the end
  bool final_base = false;      // ... and the base (untrained) model: pretrained models only
  bool final_retrain = false;   // the best configuration trained again at max_t, then evaluated
  uint64_t final_seed = 0;      // the retrain's seed
  int final_bootstrap = 1000;   // resamples of the test loss interval
  // How far past time_budget_s a trial stopped by it still gets its final evaluation.
  double budget_eval_margin_s = 0;  // 0: max(30 s, 10% of the budget)
};

// An order for one group's leader.
struct Outgoing {
  int group = -1;
  Message message;
};

// What the live status table shows.
struct StatusSnapshot {
  double elapsed_s = 0;
  double device_minutes = 0;
  int64_t created = 0;
  int64_t running = 0, paused = 0, completed = 0, stopped = 0, failed = 0;
  TrialId best_trial = -1;
  double best_metric = kNaN;
  HParams best_hparams;
  struct Running {
    int group;
    TrialId trial;
    int64_t step;  // last reported step
  };
  std::vector<Running> busy;
};

class CoordinatorCore {
 public:
  CoordinatorCore(const CoordinatorOptions& opts, Scheduler& scheduler, Searcher& searcher,
                  ResultStore& store);

  // A message from the leader of `group`.
  std::vector<Outgoing> handle(int group, const Message& m, double now);
  // Called regularly: enforces the time budget.
  std::vector<Outgoing> tick(double now);
  // Stop gracefully (SIGTERM, Ctrl-C): running segments end at their next step, then shutdown.
  std::vector<Outgoing> request_stop(double now, const std::string& why);

  // Every group has been sent Shutdown.
  bool done() const;
  StatusSnapshot snapshot(double now) const;
  // Rewrites the /summary row while running (the shell calls it with each flush).
  void update_summary(double now) { write_summary("running", now); }
  // Writes the final /summary row (status "finished" or "interrupted").
  void finish(double now);
  const std::map<TrialId, TrialRecord>& trials() const { return trials_; }
  // Checkpoint folders no trial can resume from any more; the shell removes them (after it has
  // done the moves).
  std::vector<std::string> take_deletions();
  // Folders to rename (from, to): paused trials' checkpoints that become kept weights.
  std::vector<std::pair<std::string, std::string>> take_moves();
  // The trials whose final weights are kept now (each in trial_checkpoint_dir(keep_root, id)).
  const std::set<TrialId>& kept() const { return kept_; }

 private:
  enum class GroupState {
    Starting,  // no Ready yet
    Idle,      // waiting for work
    Busy,      // training a segment of `trial`
    Saving,    // writing the checkpoint of `trial`
    Reserved,  // will get `pending` once the checkpoint of `waits_for` is complete
    Final,     // a final evaluation on the test split (FinalEval sent)
    Shut,
  };
  struct GroupInfo {
    GroupState state = GroupState::Starting;
    TrialId trial = -1;
    int64_t until = 0;          // Busy: the step the segment runs to
    TrialId waits_for = -1;     // Reserved
    SegmentMsg pending;         // Reserved
  };
  // What the coordinator keeps of a trial beyond its /trials row.
  struct TrialState {
    uint64_t seed = 0;
    std::string checkpoint;          // its folder once a checkpoint was asked for
    bool checkpoint_ready = false;   // the checkpoint is complete on every rank
    bool saving = false;             // a Checkpoint order is out
    bool keeping = false;            // a Checkpoint order of its final weights (keep root) is out
    TrialId clone_source = -1;       // synchronous PBT: copy this trial's state at resume
    double patience_best = std::numeric_limits<double>::infinity();  // best loss (lower is better)
    int64_t patience_used = 0;       // evaluations since it last improved by more than min_delta
    bool early_stopping = false;     // a StopTrial for early stopping is out
  };
  // The final phase.
  enum class FinalPhase { Search, Evaluating, Done };
  struct FinalWork {
    int prefer_group = -1;  // the group that must do it (a retrain's trial is held there); -1: any
    Message order;          // a FinalEval or the retrain's Segment
  };

  std::vector<Outgoing> assign(int group, double now);
  std::vector<Outgoing> assign_idle_groups(double now);
  std::vector<Outgoing> on_report(int group, const ReportMsg& r, double now);
  std::vector<Outgoing> on_segment_done(int group, const SegmentDoneMsg& d, double now);
  std::vector<Outgoing> on_trial_failed(int group, const TrialFailedMsg& f, double now);
  std::vector<Outgoing> on_checkpoint_done(int group, const CheckpointDoneMsg& c, double now);
  std::vector<Outgoing> on_state_received(int group, const StateReceivedMsg& r, double now);
  std::vector<Outgoing> on_retrain_done(int group, const SegmentDoneMsg& m, double now);
  std::vector<Outgoing> on_final_eval_done(int group, const FinalEvalDoneMsg& f, double now);
  // Early stopping: counts an evaluation `v` of the metric of `id`; true when the trial has now
  // gone train.early_stop_patience evaluations without improving (its reason in `why`).
  bool patience_ran_out(TrialId id, int64_t step, double v, std::string& why);
  // The best among the trials that have ended (best_trial.hpp), or among all of them.
  BestChoice best_choice(bool ended_only) const;
  // The end of the search: queue the final evaluations (once); false when there are none.
  bool begin_final_phase(double now);
  // Gives idle groups the queued final evaluations; true while any is queued or running.
  bool assign_final_work(std::vector<Outgoing>& out, double now);
  // Decisions about paused trials (Scheduler::take_decisions), after every scheduler call.
  void apply_other_decisions(double now);
  // Starts `trial` on `group` from `source`'s state (Clone decisions, deferred clones).
  std::vector<Outgoing> start_clone(int group, TrialId trial, TrialId source, int64_t until, double now);
  // Starts a segment on `group` that needs the checkpoint of `ckpt_of`: now, or once it is done.
  std::vector<Outgoing> start_from_checkpoint(int group, TrialId ckpt_of, SegmentMsg seg, double now);
  // Nothing left to do: the final evaluations, then Shutdown for every group.
  std::vector<Outgoing> maybe_shutdown(double now);

  bool can_start_new() const;
  double loss_of(double metric) const;  // lower is better, +inf when not finite
  double metric_of(const ReportMetrics& m) const;
  void record_metric(TrialId id, int64_t step, const ReportMetrics& m, double now);
  void record_decision(TrialId id, int64_t step, const std::string& action, const Decision& d,
                       double now);
  void end_trial(TrialId id, TrialStatus status, const std::string& reason, double now);
  // experiment.keep says the final weights of `id`, which just ended, are to be kept.
  bool wants_keep(TrialId id) const;
  // A trial's final weights are now in the keep root: with keep = best, the previous best's go.
  void mark_kept(TrialId id);
  // After a trial ended on `group` at a segment end: keep its weights (the group writes them),
  // or give the group its next work.
  std::vector<Outgoing> after_trial_end(int group, TrialId id, double now);
  void write_summary(const std::string& status, double now);
  SegmentMsg segment_for(TrialId id, int64_t start, int64_t stop, SegmentInit init) const;
  void set_busy(int group, TrialId id, int64_t until);

  CoordinatorOptions opts_;
  Scheduler& scheduler_;
  Searcher& searcher_;
  ResultStore& store_;
  std::vector<GroupInfo> groups_;
  std::map<TrialId, TrialRecord> trials_;
  std::map<TrialId, TrialState> state_;
  std::vector<std::string> deletions_;
  std::vector<std::pair<std::string, std::string>> moves_;
  std::set<TrialId> kept_;
  std::map<TrialId, std::string> stop_reasons_;  // StopTrial sent, SegmentDone not yet back
  TrialId next_trial_ = 0;
  bool searcher_exhausted_ = false;
  bool budget_spent_ = false;
  bool stopping_ = false;
  std::string stop_why_;
  TrialId best_trial_ = -1;   // best at any step (the live status)
  double best_metric_ = kNaN;
  FinalPhase final_phase_ = FinalPhase::Search;
  std::vector<FinalWork> final_queue_;
  int final_running_ = 0;        // final evaluations (and the retrain) out on groups
  TrialId retrain_trial_ = -1;   // the final retrain's trial, once started
};

// "<root>/trial-<id>": the checkpoint folder of a trial.
std::string trial_checkpoint_dir(const std::string& root, TrialId id);

// Carries out the folder changes the core asked for: its moves (kept checkpoints), then its
// deletions. Best effort: a folder that cannot be moved is reported on stderr (the trial's
// weights are then not kept), a deletion that fails leaves the folder.
void apply_folder_changes(CoordinatorCore& core);

}  // namespace mpitune
