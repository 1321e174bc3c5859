#include "mpitune/coord/coordinator_core.hpp"

#include <cmath>
#include <limits>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"

namespace mpitune {
namespace {

template <class... Ts>
struct Overload : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overload(Ts...) -> Overload<Ts...>;

bool is_better(Mode mode, double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return mode == Mode::Min ? a < b : a > b;
}

}  // namespace

CoordinatorCore::CoordinatorCore(const CoordinatorOptions& opts, Scheduler& scheduler,
                                 Searcher& searcher, ResultStore& store)
    : opts_(opts), scheduler_(scheduler), searcher_(searcher), store_(store),
      groups_(static_cast<size_t>(opts.num_groups)) {
  MPITUNE_CHECK(opts.num_groups >= 1, "a coordinator needs at least one group");
}

std::vector<Outgoing> CoordinatorCore::handle(int group, const Message& m, double now) {
  MPITUNE_CHECK(group >= 0 && group < opts_.num_groups, "message from unknown group " + std::to_string(group));
  return std::visit(
      Overload{
          [&](const ReadyMsg&) {
            groups_[group].state = GroupState::Idle;
            return assign(group, now);
          },
          [&](const ReportMsg& r) { return on_report(group, r, now); },
          [&](const SegmentDoneMsg& d) { return on_segment_done(group, d, now); },
          [&](const TrialFailedMsg& f) { return on_trial_failed(group, f, now); },
          [&](const auto& other) -> std::vector<Outgoing> {
            throw InfraError(std::string("coordinator received unexpected ") + message_name(Message(other)));
          },
      },
      m);
}

bool CoordinatorCore::can_start_new() const {
  return !stopping_ && !budget_spent_ && !searcher_exhausted_ && next_trial_ < opts_.max_trials;
}

double CoordinatorCore::metric_of(const ReportMetrics& m) const {
  return opts_.metric == "train_loss" ? m.train_loss : m.eval_loss;
}

double CoordinatorCore::loss_of(double metric) const {
  if (!std::isfinite(metric)) return std::numeric_limits<double>::infinity();
  return opts_.mode == Mode::Min ? metric : -metric;
}

SegmentMsg CoordinatorCore::segment_for(TrialId id, int64_t start, int64_t stop, SegmentInit init) const {
  SegmentMsg s;
  s.trial = id;
  s.hparams = trials_.at(id).hparams;
  s.start = start;
  s.stop = stop;
  s.max_steps = scheduler_.max_steps();
  s.seed = seeds_.at(id);
  s.init = init;
  return s;
}

std::vector<Outgoing> CoordinatorCore::assign(int group, double now) {
  std::vector<Outgoing> out;
  GroupInfo& g = groups_[group];
  if (g.state != GroupState::Idle) return out;
  for (;;) {
    const bool may_start = can_start_new();
    const Assignment a = scheduler_.next(may_start);
    if (a.kind == Assignment::Kind::NewTrial && may_start) {
      const TrialId id = next_trial_;
      auto hp = searcher_.suggest(id, a.budget);
      if (!hp) {
        searcher_exhausted_ = true;
        continue;  // ask the scheduler again, now without new trials
      }
      ++next_trial_;
      seeds_[id] = derive_seed(opts_.seed, "trial", static_cast<uint64_t>(id));
      TrialRecord t;
      t.id = id;
      t.group = group;
      t.status = TrialStatus::Running;
      t.hparams = *hp;
      t.start_time = now;
      trials_[id] = t;
      const int64_t until = scheduler_.on_trial_start(id, *hp, a);
      store_.upsert_trial(trials_[id]);
      Decision d = Decision::cont(until, "new trial: " + hp->to_string());
      d.bracket = a.bracket;
      record_decision(id, 0, "start", d, now);
      g = GroupInfo{GroupState::Busy, id, now};
      out.push_back({group, segment_for(id, 0, until, SegmentInit::Fresh)});
      return out;
    }
    if (a.kind == Assignment::Kind::Resume) {
      TrialRecord& t = trials_.at(a.trial);
      t.status = TrialStatus::Running;
      t.group = group;
      store_.upsert_trial(t);
      Decision d = Decision::cont(a.until, "resume from step " + std::to_string(t.last_step));
      record_decision(a.trial, t.last_step, "resume", d, now);
      g = GroupInfo{GroupState::Busy, a.trial, now};
      out.push_back({group, segment_for(a.trial, t.last_step, a.until, SegmentInit::Resume)});
      return out;
    }
    // Wait, Done, or a NewTrial we may not start: the group stays idle for now.
    break;
  }
  // Nothing running anywhere and nothing to assign: the experiment is over.
  bool anyone_busy = false;
  for (const auto& gi : groups_) anyone_busy |= gi.state == GroupState::Busy || gi.state == GroupState::Starting;
  if (!anyone_busy) {
    for (size_t i = 0; i < groups_.size(); ++i) {
      if (groups_[i].state == GroupState::Shut) continue;
      groups_[i].state = GroupState::Shut;
      out.push_back({static_cast<int>(i), ShutdownMsg{stopping_ ? stop_why_ : "experiment finished"}});
    }
  }
  return out;
}

std::vector<Outgoing> CoordinatorCore::assign_idle_groups(double now) {
  std::vector<Outgoing> out;
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i].state != GroupState::Idle) continue;
    auto more = assign(static_cast<int>(i), now);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

void CoordinatorCore::record_metric(TrialId id, int64_t step, const ReportMetrics& m, double now) {
  MetricRecord r;
  r.trial = id;
  r.step = step;
  r.time = now;
  r.train_loss = m.train_loss;
  r.eval_loss = m.eval_loss;
  r.lr = m.lr;
  r.tokens = m.tokens;
  r.throughput = m.throughput;
  r.loss_scale = m.loss_scale;
  store_.append_metric(r);

  TrialRecord& t = trials_.at(id);
  t.last_step = std::max(t.last_step, step);
  const double v = metric_of(m);
  if (std::isfinite(v)) {
    t.last_metric = v;
    if (is_better(opts_.mode, v, t.best_metric)) t.best_metric = v;
    if (is_better(opts_.mode, v, best_metric_)) {
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

void CoordinatorCore::end_trial(TrialId id, TrialStatus status, const std::string& reason, double now) {
  TrialRecord& t = trials_.at(id);
  t.status = status;
  t.end_time = now;
  t.reason = reason;
  store_.upsert_trial(t);
}

void CoordinatorCore::add_segment_time(int group, TrialId id, double seconds) {
  trials_.at(id).device_seconds += seconds * opts_.group_size;
  (void)group;
}

std::vector<Outgoing> CoordinatorCore::on_report(int group, const ReportMsg& r, double now) {
  std::vector<Outgoing> out;
  MPITUNE_CHECK(trials_.count(r.trial), "report for unknown trial " + std::to_string(r.trial));
  record_metric(r.trial, r.step, r.metrics, now);
  store_.upsert_trial(trials_.at(r.trial));
  const double v = metric_of(r.metrics);
  if (std::isnan(v) || stop_reasons_.count(r.trial)) return out;
  const Decision d = scheduler_.on_report(r.trial, r.step, loss_of(v));
  if (d.action == Action::Stop) {
    stop_reasons_[r.trial] = d.reason;
    record_decision(r.trial, r.step, "stop", d, now);
    out.push_back({group, StopTrialMsg{r.trial, d.reason}});
  }
  return out;
}

std::vector<Outgoing> CoordinatorCore::on_segment_done(int group, const SegmentDoneMsg& m, double now) {
  std::vector<Outgoing> out;
  GroupInfo& g = groups_[group];
  MPITUNE_CHECK(g.state == GroupState::Busy && g.trial == m.trial,
                "group " + std::to_string(group) + " finished trial " + std::to_string(m.trial) +
                    " it was not running");
  const TrialId id = m.trial;
  record_metric(id, m.step, m.metrics, now);
  add_segment_time(group, id, m.seconds);
  g.state = GroupState::Idle;

  auto stopped = stop_reasons_.find(id);
  if (m.interrupted || stopped != stop_reasons_.end()) {
    const std::string why = stopped != stop_reasons_.end() ? stopped->second : "stopped";
    stop_reasons_.erase(id);
    scheduler_.on_trial_failed(id);
    end_trial(id, TrialStatus::Stopped, why, now);
    auto more = assign(group, now);
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }

  const double loss = loss_of(metric_of(m.metrics));
  searcher_.observe(id, trials_.at(id).hparams, static_cast<double>(m.step), loss);
  const Decision d = scheduler_.on_segment_end(id, m.step, loss);
  TrialRecord& t = trials_.at(id);
  switch (d.action) {
    case Action::Continue:
      if (stopping_ || budget_spent_) {
        Decision s = Decision::make(Action::Stop, stopping_ ? stop_why_ : "time budget reached");
        record_decision(id, m.step, "stop", s, now);
        scheduler_.on_trial_failed(id);
        end_trial(id, TrialStatus::Stopped, s.reason, now);
        break;
      }
      record_decision(id, m.step, "continue", d, now);
      store_.upsert_trial(t);
      g = GroupInfo{GroupState::Busy, id, now};
      out.push_back({group, segment_for(id, m.step, d.until, SegmentInit::Continue)});
      return out;
    case Action::Stop:
      record_decision(id, m.step, "stop", d, now);
      end_trial(id, TrialStatus::Stopped, d.reason, now);
      break;
    case Action::Complete:
      record_decision(id, m.step, "complete", d, now);
      end_trial(id, TrialStatus::Completed, d.reason.empty() ? "reached max_t" : d.reason, now);
      break;
    case Action::Pause:
      record_decision(id, m.step, "pause", d, now);
      t.status = TrialStatus::Paused;
      store_.upsert_trial(t);
      break;
    case Action::Clone:
      throw InfraError("Clone decisions need PBT support in the coordinator (not built yet)");
  }
  auto more = assign(group, now);
  out.insert(out.end(), more.begin(), more.end());
  // A finished trial may unblock groups that were waiting (synchronous schedulers).
  auto others = assign_idle_groups(now);
  out.insert(out.end(), others.begin(), others.end());
  return out;
}

std::vector<Outgoing> CoordinatorCore::on_trial_failed(int group, const TrialFailedMsg& f, double now) {
  GroupInfo& g = groups_[group];
  MPITUNE_CHECK(g.state == GroupState::Busy && g.trial == f.trial,
                "group " + std::to_string(group) + " reported a failure of trial " + std::to_string(f.trial) +
                    " it was not running");
  const TrialId id = f.trial;
  add_segment_time(group, id, f.seconds);
  TrialRecord& t = trials_.at(id);
  t.last_step = std::max(t.last_step, f.step);
  g.state = GroupState::Idle;
  stop_reasons_.erase(id);
  scheduler_.on_trial_failed(id);
  searcher_.observe(id, t.hparams, static_cast<double>(f.step), std::numeric_limits<double>::infinity());
  record_decision(id, f.step, "fail", Decision::make(Action::Stop, f.reason), now);
  end_trial(id, TrialStatus::Failed, f.reason, now);
  auto out = assign(group, now);
  auto others = assign_idle_groups(now);
  out.insert(out.end(), others.begin(), others.end());
  return out;
}

std::vector<Outgoing> CoordinatorCore::tick(double now) {
  std::vector<Outgoing> out;
  if (opts_.time_budget_s > 0 && !budget_spent_ && now - opts_.start_time >= opts_.time_budget_s) {
    budget_spent_ = true;
    for (size_t i = 0; i < groups_.size(); ++i) {
      const GroupInfo& g = groups_[i];
      if (g.state != GroupState::Busy || stop_reasons_.count(g.trial)) continue;
      stop_reasons_[g.trial] = "time budget reached";
      out.push_back({static_cast<int>(i), StopTrialMsg{g.trial, "time budget reached"}});
    }
    auto more = assign_idle_groups(now);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

std::vector<Outgoing> CoordinatorCore::request_stop(double now, const std::string& why) {
  std::vector<Outgoing> out;
  if (stopping_) return out;
  stopping_ = true;
  stop_why_ = why;
  for (size_t i = 0; i < groups_.size(); ++i) {
    const GroupInfo& g = groups_[i];
    if (g.state != GroupState::Busy || stop_reasons_.count(g.trial)) continue;
    stop_reasons_[g.trial] = why;
    out.push_back({static_cast<int>(i), StopTrialMsg{g.trial, why}});
  }
  auto more = assign_idle_groups(now);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

bool CoordinatorCore::done() const {
  for (const auto& g : groups_)
    if (g.state != GroupState::Shut) return false;
  return true;
}

StatusSnapshot CoordinatorCore::snapshot(double now) const {
  StatusSnapshot s;
  s.elapsed_s = now - opts_.start_time;
  s.device_minutes = s.elapsed_s * opts_.world_size / 60.0;
  s.created = next_trial_;
  for (const auto& [id, t] : trials_) {
    switch (t.status) {
      case TrialStatus::Pending:
      case TrialStatus::Running: ++s.running; break;
      case TrialStatus::Paused: ++s.paused; break;
      case TrialStatus::Completed: ++s.completed; break;
      case TrialStatus::Stopped: ++s.stopped; break;
      case TrialStatus::Failed: ++s.failed; break;
    }
  }
  s.best_trial = best_trial_;
  s.best_metric = best_metric_;
  if (best_trial_ >= 0) s.best_hparams = trials_.at(best_trial_).hparams;
  for (size_t i = 0; i < groups_.size(); ++i)
    if (groups_[i].state == GroupState::Busy)
      s.busy.push_back({static_cast<int>(i), groups_[i].trial, trials_.at(groups_[i].trial).last_step});
  return s;
}

void CoordinatorCore::write_summary(const std::string& status, double now) {
  SummaryRecord s;
  s.status = status;
  s.end_time = status == "running" ? kNaN : now;
  s.elapsed_s = now - opts_.start_time;
  s.device_seconds = s.elapsed_s * opts_.world_size;
  s.trials = next_trial_;
  s.best_trial = best_trial_;
  s.best_metric = best_metric_;
  store_.set_summary(s);
}

void CoordinatorCore::finish(double now) {
  // Trials still marked running (an abnormal end) are closed as stopped so the file is consistent.
  for (auto& [id, t] : trials_)
    if (t.status == TrialStatus::Running || t.status == TrialStatus::Pending)
      end_trial(id, TrialStatus::Stopped, stopping_ ? stop_why_ : "experiment ended", now);
  write_summary(stopping_ ? "interrupted" : "finished", now);
  store_.flush();
}

}  // namespace mpitune
