// Replay: rebuilds a coordinator's state from the /events of a result file, for a job that
// resumes an interrupted experiment.
//
// The coordinator core logs every input it handles (coordinator_core.hpp, "Resume"), so handing
// the same inputs, in the same order, to a fresh core built from the same config (scheduler,
// searcher, seed) leaves it in the state the old one had: the trials, the scheduler's rungs,
// brackets or population, the searcher's observations and random stream, the trial-id counter.
// What the replayed core writes is dropped (the file holds it already) and its orders are not
// sent (they were, by the old job); begin_job() then hands the old job's unfinished work to the
// new job's groups.
//
// Event kinds (EventRecord::kind) and their data:
//   message   a leader's message (protocol encoding), from EventRecord::group
//   budget    the time budget ran out (no data)
//   preempt   request_preempt (data: the reason, UTF-8)
//   job       a job began (data: its number of groups, decimal)
#pragma once

#include <functional>
#include <vector>

#include "mpitune/coord/coordinator_core.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {

// A store that forwards to another one once it is live, and drops everything before: the core
// writes into it while it replays.
class ReplayStore : public ResultStore {
 public:
  explicit ReplayStore(ResultStore& inner) : inner_(inner) {}
  void set_live(bool live) { live_ = live; }
  bool live() const { return live_; }

  void begin(const ExperimentInfo& info, const std::vector<GroupRecord>& groups) override {
    if (live_) inner_.begin(info, groups);
  }
  void upsert_trial(const TrialRecord& t) override {
    if (live_) inner_.upsert_trial(t);
  }
  void append_metric(const MetricRecord& m) override {
    if (live_) inner_.append_metric(m);
  }
  void append_decision(const DecisionRecord& d) override {
    if (live_) inner_.append_decision(d);
  }
  void append_transfer(const TransferRecord& t) override {
    if (live_) inner_.append_transfer(t);
  }
  void set_summary(const SummaryRecord& s) override {
    if (live_) inner_.set_summary(s);
  }
  void append_final(const FinalRecord& f, const std::vector<FinalDocumentRecord>& documents) override {
    if (live_) inner_.append_final(f, documents);
  }
  void append_event(const EventRecord& e) override {
    if (live_) inner_.append_event(e);
  }
  void set_segment(const SegmentRecord& s) override {
    if (live_) inner_.set_segment(s);
  }
  void flush() override {
    if (live_) inner_.flush();
  }
  void close() override {
    if (live_) inner_.close();
  }

 private:
  ResultStore& inner_;
  bool live_ = false;
};

// Hands `events` to `core` in order. `seen` (optional) gets each event with the orders the core
// decided for it. Throws InfraError when the events are not numbered 0, 1, 2, ... from the core's
// next seq, when one cannot be decoded, or when the core logs another number of events for one
// than one (the replay diverged: a different config or mpitune version).
void replay_events(CoordinatorCore& core, const std::vector<EventRecord>& events,
                   const std::function<void(const EventRecord&, const std::vector<Outgoing>&)>& seen = {});

}  // namespace mpitune
