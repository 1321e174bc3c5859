// CoordinatorCore: the coordinator's logic as a pure function of events.
//
// Messages from group leaders (Ready, Report, SegmentDone, TrialFailed, CheckpointDone,
// StateReceived) and clock ticks go in; orders for groups (Segment, StopTrial, Checkpoint,
// SendState, Shutdown) come out, and every fact is written to the ResultStore. It routes between
// the Searcher (what to try) and the Scheduler (how long, stop, pause, clone): neither calls the
// other. Time is passed in, never read, so the same code runs under MPI (wall clock), in unit
// tests and in the simulator (virtual time).
//
// Every scheduler call returns all its decisions as one value (scheduler.hpp): its decisions
// about other (paused) trials are carried out first, then its own result. Each trial has one
// entry in the trial table (TrialEntry: its /trials row and what the coordinator keeps beyond
// it); set_status() is the one place its status changes. Sources: src/coord/coordinator_core.cpp
// (events and orders), coordinator_trials.cpp (the table), coordinator_transfers.cpp (states
// moving between groups), coordinator_final.cpp (the final phase), coordinator_recovery.cpp
// (preempt, resume, retry).
//
// How scheduler decisions become orders:
//  - Continue: the same group goes on with the trial it holds (no state moves).
//  - Pause: the group writes the trial's checkpoint (Checkpoint -> CheckpointDone); the trial
//    can then resume on any group of the same size (Resume assignments from next()). A Resume
//    that comes while the checkpoint is still being written waits for it on its group.
//  - Rebase (synchronous PBT, a paused trial): it takes the new hyperparameters now (recorded as
//    "clone" in /decisions) and the source's state when next() hands out its Resume (a Clone).
//  - Clone (PBT): the target takes the source's state: sent rank to rank by the group running
//    the source (SendState to it, a Clone segment to the target), or loaded from the source's
//    checkpoint when the source is paused. When the source is gone (finished), the target goes
//    on from its own state with the new hyperparameters (explore only), and the reason says so.
//  - Checkpoints live in one folder per trial under the checkpoint root; a trial that can no
//    longer resume (completed, stopped, failed) has its folder listed by take_deletions().
//  - Host cache (PBT, scheduler.pbt_host_cache_mb): a pause also keeps the state in the host
//    memory of the group that wrote it, when it fits there. Resuming the trial, or cloning it as
//    a paused source, then copies it rank to rank from that group (SendState, a Clone segment;
//    from the group itself when it is the one; from a group that is training only when the state
//    is large: options.host_cache_wait_bytes) instead of reading the files, which are still
//    written: a job that ends (preempt, crash) loses the caches, not the trials. A resume moves
//    the copy (the cache lets it go); a trial that ends has it released (ReleaseState).
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
//  - The final evaluation (final_eval): when the search has ended,
//    the best trial's kept final weights — or, with final_retrain, a new trial of its
//    configuration trained at max_t — are evaluated once on the test split by an idle group
//    (FinalEval -> FinalEvalDone), and the base model too (final_base); each becomes a /final
//    row with a bootstrap interval, then every group is shut down.
//
// Resume (issue 10; coord/replay.hpp): every input of the core (messages, the time budget
// running out, a preempt request, the start of a job) is logged to the store's /events
// before it is handled. A later job hands the same inputs to a fresh core (with the same
// scheduler and searcher types and seed), which then holds exactly the state the first one had:
// trials, scheduler, searcher, trial-id counter. No scheduler or searcher needs its own save
// format. begin_job() then turns the work the old job's groups held into recovery items that
// the new job's groups take before anything else:
//  - a running trial resumes from its newest checkpoint (a preempt checkpoint written at the
//    interruption, or its pause checkpoint), else restarts its segment from step 0, and runs to
//    the same `until`; reports of steps already recorded are dropped (is_stale), so the
//    scheduler sees every step once and the resumed run makes the decisions the uninterrupted
//    one would (deterministic objectives and order);
//  - a pause or keep checkpoint that was being written is taken from the preempt checkpoint when
//    that is at the same step, else the trial is trained up to that step again and then written;
//  - a segment that waited for a checkpoint waits again; a final evaluation is queued again;
//  - a trial with a stop order in flight ends as it would have (at its last recorded step).
// The same items serve retries (experiment.max_failures_per_trial, Ray Tune's max_failures): a
// trial whose segment fails is tried again on its group from its resume point (or step 0) up
// to that many times before it fails for good; the scheduler and searcher hear only of the
// final failure. A failed checkpoint write is not retried.
// Preempt (request_preempt: SIGUSR1, SIGTERM, a Slurm time limit): the core goes on deciding as
// if nothing happened (the decisions are logged and replayed), but sends no new work: every
// group that holds a trial gets a Preempt (checkpoint it, answer Preempted) and every other
// order is parked for the next job; preempt_complete() says when every group has answered.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <memory>
#include <optional>
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
  // Seconds the experiment was not running before this job (the gaps between its jobs): not
  // counted against time_budget_s nor in /summary's elapsed time.
  double offline_s = 0;
  // /summary's device-seconds of the jobs before this one (this job adds world_size x its time).
  double prior_device_seconds = 0;
  double job_start_time = 0;  // when this job began (0: start_time)
  std::string checkpoint_root = "checkpoints";  // folder of the per-trial checkpoint folders
  std::string keep = "none";                    // best | all | none
  std::string keep_root = "kept";               // folder of the kept trials' folders
  // The parameters (total, trainable) of a trial's model; unset: 0, 0 (synthetic objectives).
  std::function<std::pair<int64_t, int64_t>(const HParams&)> param_counts;
  std::string transfer_payload = "model";       // what a PBT exploit moves: model | adapters
  int64_t early_stop_patience = 0;              // 0: off
  int max_failures_per_trial = 0;               // a failed trial is tried again this often (retry)
  double checkpoint_interval_s = 0;             // running trials' periodic checkpoints; 0: none
  bool host_cache = false;  // paused states stay in their group's host memory too (PBT)
  // A copy from the cache of a group that is training waits for its next step boundary; a
  // state at least this large is still taken from there (reading it from files takes longer),
  // a smaller one is read from its files (a few ms from the page cache) unless the holder is free.
  int64_t host_cache_wait_bytes = int64_t{64} << 20;
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

  // A message from the leader of `group`; `vtime`: its virtual time in deterministic mode (logged
  // with it, for the shell's DeterministicOrder when it replays).
  std::vector<Outgoing> handle(int group, const Message& m, double now, int64_t vtime = -1);
  // Called regularly: enforces the time budget (spend_budget once it has run out).
  std::vector<Outgoing> tick(double now);
  // The time budget has run out: running trials get their final stop.
  std::vector<Outgoing> spend_budget(double now);
  // End the job resumably: checkpoint what the groups hold, park the rest (see above).
  std::vector<Outgoing> request_preempt(double now, const std::string& why);
  bool preempting() const { return preempting_; }
  // Every group that was sent a Preempt has answered.
  bool preempt_complete() const;
  // A new job takes over the experiment with `num_groups` fresh groups (after a replay).
  std::vector<Outgoing> begin_job(double now, int num_groups);
  // A report of a resumed trial for a step the experiment already recorded: to be dropped.
  bool is_stale(const Message& m) const;
  // Where the clock of a resumed segment starts: the time (and virtual time) at which the old
  // job's segment began, and the step it began at. A shell that orders events by virtual time
  // (and the simulator) places the resumed trial's steps on the old segment's clock, so they
  // interleave with the other groups' events as they would have without the interruption.
  struct ResumedClock {
    double since = 0;
    int64_t since_vtime = -1;
    int64_t start_step = 0;
  };
  // The clock of the segment just started for resumed trial `id` (once; nullopt otherwise).
  std::optional<ResumedClock> take_resumed_clock(TrialId id);
  // Inputs logged so far (the next event's seq).
  int64_t events_logged() const { return next_event_; }
  // Groups that owe the coordinator a message (a segment, a checkpoint, an evaluation, a
  // Preempt answer): the ones a heartbeat timeout watches.
  std::vector<int> working_groups() const;

  // Every group has been sent Shutdown.
  bool done() const;
  StatusSnapshot snapshot(double now) const;
  // Rewrites the /summary row while running (the shell calls it with each flush): "running", or
  // "aborted" while a preempt is under way (a job killed before its checkpoints are all written
  // ended aborted; finish_interrupted() writes "interrupted" once they are).
  void update_summary(double now) { write_summary(preempting_ ? "aborted" : "running", now); }
  // Writes the final /summary row (status "finished").
  void finish(double now);
  // After a preempt: trials that were running are recorded as paused (they resume in the next
  // job) and /summary says "interrupted"; then every group is sent Shutdown.
  std::vector<Outgoing> finish_interrupted(double now);
  // The job cannot go on (a dead or hung group): /summary says "aborted" (still resumable).
  void finish_aborted(double now);
  // Every trial's /trials row as the coordinator holds it.
  std::map<TrialId, TrialRecord> trials() const;
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
    SegmentMsg seg;             // Busy: the segment order it was given
    Message final_order;        // Final: the order it was given
    bool parked = false;        // its order was not sent (preempt) or was abandoned (Preempted)
    bool preempt_sent = false;  // a Preempt went to it ...
    bool preempt_out = false;   // ... and it has not answered yet
    double since = 0;           // the time (and virtual time) its last order was decided
    int64_t since_vtime = -1;
  };
  // Work of a job that ended before it was done, for the next job's groups (begin_job).
  struct Recovery {
    enum class Kind {
      Run,     // train `trial` to `until`, then report as usual
      Pause,   // train it to `until` (its pause step) again, then write its pause checkpoint
      Keep,    // ... then write its kept final weights
      Start,   // send `seg` once the checkpoint of `waits_for` is complete (a Reserved group)
    } kind = Kind::Run;
    int prefer_group = -1;  // the group that had it (the same group, when it exists, keeps ties)
    TrialId trial = -1;
    int64_t until = 0;
    SegmentMsg seg;         // the order the old group had
    TrialId waits_for = -1;
    double since = 0;       // when the old group's order was decided (its virtual time too)
    int64_t since_vtime = -1;
    bool retry = false;     // a failed segment tried again: new work, on a new clock
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
    // Its newest complete checkpoint of its current state's lineage (a pause or preempt
    // checkpoint), where a resumed job restarts it; step -1: none.
    std::string resume_dir;
    int64_t resume_step = -1;
    int64_t stale_until = -1;        // resumed: reports of steps <= this were recorded already
    Recovery::Kind then = Recovery::Kind::Run;  // resumed to redo a pause/keep write at its end
    int failures = 0;                // failures tried again (max_failures_per_trial)
    int memory_group = -1;           // a group whose host cache holds its paused state; -1: none
    int64_t memory_bytes = 0;        // ... and its size there
    std::string clone_via;           // how its clone's state comes (/pbt_transfers via), when ordered
    // A StopTrial went to its group (its reason: time budget, early stopping, a lost rung) and
    // its SegmentDone is not back yet.
    std::optional<std::string> stop_order;
  };
  // The trial table: one entry per trial, everything the coordinator knows of it. Its status
  // changes in one place, set_status(), which writes the /trials row; the row's other columns
  // (steps, metrics, device time, lineage) are updated as facts come in and written with it.
  struct TrialEntry {
    TrialRecord row;   // what /trials says
    TrialState state;  // what the coordinator keeps beyond it
  };
  // The final phase.
  enum class FinalPhase { Search, Evaluating, Done };
  struct FinalWork {
    int prefer_group = -1;  // the group that must do it (a retrain's trial is held there); -1: any
    Message order;          // a FinalEval or the retrain's Segment
  };

  std::vector<Outgoing> dispatch(int group, const Message& m, double now);
  void log_event(const std::string& kind, int group, std::vector<uint8_t> data, double now, int64_t vtime = -1);
  // Every public entry's orders pass here: records each group's segment and final order, and
  // while preempting turns work orders into Preempts or parks them.
  std::vector<Outgoing> finalize(std::vector<Outgoing> outs);
  std::vector<Outgoing> on_preempted(int group, const PreemptedMsg& p, double now);
  std::vector<Outgoing> on_periodic_checkpoint(int group, const PeriodicCheckpointMsg& p);
  // The first recovery item for `group`, started on it; false when there is none for it.
  bool start_recovery(int group, std::vector<Outgoing>& out, double now);
  // Ends a trial that had a stop order in flight when its job ended.
  void end_pending_stop(TrialId id, double now);
  // A trial's resume point is now `dir` at `step` (the previous one, if another folder, goes).
  void set_resume_point(TrialId id, const std::string& dir, int64_t step);
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
  // Carries out a scheduler call's decisions about other (paused) trials, before its own result.
  void apply_other_decisions(const OtherDecisions& others, double now);
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
  // A new trial in the table (its row is written when it first runs).
  void add_trial(const TrialRecord& t, uint64_t seed);
  // The one place a trial's status changes; writes its row. A trial that ends (a terminal
  // status) gets `now` as its end time and `reason`.
  void set_status(TrialId id, TrialStatus status, double now, const std::string& reason = "");
  TrialRecord& row_of(TrialId id) { return table_.at(id).row; }
  const TrialRecord& row_of(TrialId id) const { return table_.at(id).row; }
  TrialState& state_of(TrialId id) { return table_.at(id).state; }
  const TrialState& state_of(TrialId id) const { return table_.at(id).state; }
  // A trial ends (completed, stopped, failed, early stopped): its status, and what can no longer
  // be resumed goes (checkpoints, host-cache copies) or is kept.
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
  std::map<TrialId, TrialEntry> table_;  // the trial table
  std::vector<std::string> deletions_;
  std::vector<std::pair<std::string, std::string>> moves_;
  std::set<TrialId> kept_;
  TrialId next_trial_ = 0;
  bool searcher_exhausted_ = false;
  bool budget_spent_ = false;
  std::string stop_why_;  // why the job is being preempted
  TrialId best_trial_ = -1;   // best at any step (the live status)
  double best_metric_ = kNaN;
  FinalPhase final_phase_ = FinalPhase::Search;
  std::vector<FinalWork> final_queue_;
  int final_running_ = 0;        // final evaluations (and the retrain) out on groups
  TrialId retrain_trial_ = -1;   // the final retrain's trial, once started
  int64_t next_event_ = 0;       // seq of the next /events row
  bool preempting_ = false;
  std::vector<Recovery> recovery_;
  std::map<TrialId, ResumedClock> resumed_clocks_;
  std::vector<Outgoing> releases_;  // ReleaseState orders for the next batch of orders
  double now_ = 0;         // the time and virtual time of the input being handled
  int64_t vtime_ = -1;
};

// "<root>/trial-<id>-preempt": where a trial's checkpoint goes when its job is preempted.
std::string trial_preempt_dir(const std::string& root, TrialId id);

// "<root>/trial-<id>": the checkpoint folder of a trial.
std::string trial_checkpoint_dir(const std::string& root, TrialId id);

// Carries out the folder changes the core asked for: its moves (kept checkpoints), then its
// deletions. Best effort: a folder that cannot be moved is reported on stderr (the trial's
// weights are then not kept), a deletion that fails leaves the folder.
void apply_folder_changes(CoordinatorCore& core);

}  // namespace mpitune
