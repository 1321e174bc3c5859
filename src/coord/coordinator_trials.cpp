// The coordinator's trial table (coordinator_core.hpp, TrialEntry): a trial enters it, its status
// changes (set_status, the one place, which writes its /trials row), it ends (its checkpoints go
// or become kept weights), and the facts about it land in /metrics and /decisions. The choice of
// the best trial, and which trials' final weights are kept, read it here too.
#include "mpitune/coord/coordinator_core.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "mpitune/core/error.hpp"
#include "coordinator_detail.hpp"

namespace mpitune {

using namespace coord_detail;

void CoordinatorCore::add_trial(const TrialRecord& t, uint64_t seed) {
  MPITUNE_CHECK(!table_.count(t.id), "trial " + std::to_string(t.id) + " created twice");
  TrialEntry& e = table_[t.id];
  e.row = t;
  e.state.seed = seed;
}

void CoordinatorCore::set_status(TrialId id, TrialStatus status, double now, const std::string& reason) {
  TrialRecord& t = row_of(id);
  t.status = status;
  if (is_terminal(status)) {
    t.end_time = now;
    t.reason = reason;
  }
  store_.upsert_trial(t);
}

void CoordinatorCore::end_trial(TrialId id, TrialStatus status, const std::string& reason, double now) {
  const bool was_paused = row_of(id).status == TrialStatus::Paused;
  set_status(id, status, now, reason);
  // It can never resume: its checkpoint goes (once written, if a write is still under way), or
  // becomes its kept weights when it was paused (its checkpoint is then its final state).
  TrialState& ts = state_of(id);
  if (ts.checkpoint_ready) {
    if (was_paused && wants_keep(id)) {
      moves_.emplace_back(ts.checkpoint, trial_checkpoint_dir(opts_.keep_root, id));
      mark_kept(id);
    } else {
      deletions_.push_back(ts.checkpoint);
    }
    ts.checkpoint_ready = false;
  }
  if (!ts.resume_dir.empty() && ts.resume_dir != ts.checkpoint) deletions_.push_back(ts.resume_dir);
  ts.resume_dir.clear();
  ts.resume_step = -1;
  if (ts.memory_group >= 0) releases_.push_back({ts.memory_group, ReleaseStateMsg{id}});
  ts.memory_group = -1;
}

void CoordinatorCore::record_metric(TrialId id, int64_t step, const ReportMetrics& m, double now) {
  MetricRecord r;
  r.trial = id;
  r.step = step;
  r.time = now;
  r.train_loss = m.train_loss;
  r.eval_loss = m.eval_loss;
  r.retention_loss = m.retention_loss;
  r.lr = m.lr;
  r.tokens = m.tokens;
  r.throughput = m.throughput;
  r.loss_scale = m.loss_scale;
  store_.append_metric(r);

  TrialRecord& t = row_of(id);
  t.last_step = step;
  const double v = metric_of(m);
  if (std::isfinite(v)) {
    t.last_metric = v;
    t.metric_step = step;
    if (is_better(opts_.mode, v, t.best_metric)) t.best_metric = v;
    if (id != retrain_trial_ && is_better(opts_.mode, v, best_metric_)) {
      best_metric_ = v;
      best_trial_ = id;
    }
  }
}

void CoordinatorCore::record_decision(TrialId id, int64_t step, const std::string& action,
                                      const Decision& d, double now) {
  DecisionRecord r;
  r.time = now;
  r.trial = id;
  r.step = step;
  r.bracket = d.bracket;
  r.rung = d.rung;
  r.budget = static_cast<double>(d.until > 0 ? d.until : step);
  r.action = action;
  r.reason = d.reason;
  store_.append_decision(r);
}

bool CoordinatorCore::wants_keep(TrialId id) const {
  if (row_of(id).status == TrialStatus::Failed) return false;
  if (opts_.keep == "all") return true;
  return opts_.keep == "best" && id == best_choice(/*ended_only=*/true).trial;
}

BestChoice CoordinatorCore::best_choice(bool ended_only) const {
  std::vector<const TrialRecord*> candidates;
  candidates.reserve(table_.size());
  for (const auto& [id, e] : table_)
    if (id != retrain_trial_ && (!ended_only || is_terminal(e.row.status))) candidates.push_back(&e.row);
  return select_best_trial(candidates, scheduler_.max_steps(), opts_.mode == Mode::Max);
}

void CoordinatorCore::mark_kept(TrialId id) {
  if (opts_.keep == "best")
    for (TrialId other : kept_)
      if (other != id) deletions_.push_back(trial_checkpoint_dir(opts_.keep_root, other));
  if (opts_.keep == "best") kept_.clear();
  kept_.insert(id);
}

std::map<TrialId, TrialRecord> CoordinatorCore::trials() const {
  std::map<TrialId, TrialRecord> out;
  for (const auto& [id, e] : table_) out.emplace(id, e.row);
  return out;
}

}  // namespace mpitune
