// CoordinatorCore: the coordinator's logic as a pure function of events.
//
// Messages from group leaders (Ready, Report, SegmentDone, TrialFailed) and clock ticks go in;
// orders for groups (Segment, StopTrial, Shutdown) come out, and every fact is written to the
// ResultStore. It routes between the Searcher (what to try) and the Scheduler (how long, stop,
// pause, clone): neither calls the other. Time is passed in, never read, so the same code runs
// under MPI (wall clock), in unit tests and in the simulator (virtual time).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"
#include "mpitune/core/protocol.hpp"
#include "mpitune/sched/scheduler.hpp"
#include "mpitune/search/searcher.hpp"
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

 private:
  enum class GroupState { Starting, Idle, Busy, Shut };
  struct GroupInfo {
    GroupState state = GroupState::Starting;
    TrialId trial = -1;         // Busy: the trial it trains
    double segment_start = 0;
  };

  std::vector<Outgoing> assign(int group, double now);
  std::vector<Outgoing> assign_idle_groups(double now);
  std::vector<Outgoing> on_report(int group, const ReportMsg& r, double now);
  std::vector<Outgoing> on_segment_done(int group, const SegmentDoneMsg& d, double now);
  std::vector<Outgoing> on_trial_failed(int group, const TrialFailedMsg& f, double now);

  bool can_start_new() const;
  double loss_of(double metric) const;  // lower is better, +inf when not finite
  double metric_of(const ReportMetrics& m) const;
  void record_metric(TrialId id, int64_t step, const ReportMetrics& m, double now);
  void record_decision(TrialId id, int64_t step, const std::string& action, const Decision& d,
                       double now);
  void end_trial(TrialId id, TrialStatus status, const std::string& reason, double now);
  void add_segment_time(int group, TrialId id, double seconds);
  void write_summary(const std::string& status, double now);
  SegmentMsg segment_for(TrialId id, int64_t start, int64_t stop, SegmentInit init) const;

  CoordinatorOptions opts_;
  Scheduler& scheduler_;
  Searcher& searcher_;
  ResultStore& store_;
  std::vector<GroupInfo> groups_;
  std::map<TrialId, TrialRecord> trials_;
  std::map<TrialId, uint64_t> seeds_;
  std::map<TrialId, std::string> stop_reasons_;  // StopTrial sent, SegmentDone not yet back
  TrialId next_trial_ = 0;
  bool searcher_exhausted_ = false;
  bool budget_spent_ = false;
  bool stopping_ = false;
  std::string stop_why_;
  TrialId best_trial_ = -1;
  double best_metric_ = kNaN;
};

}  // namespace mpitune
