// The coordinator core's event handling (coordinator_core.hpp): messages and ticks in, orders
// out. Assigning work (the scheduler's next()), carrying out its decisions at reports and segment
// ends, checkpoints done, failures and retries, the time budget, the summary. The trial table,
// state transfers, the final phase and recovery across jobs are in the coordinator_*.cpp files
// beside this one.
#include "mpitune/coord/coordinator_core.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <tuple>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "coordinator_detail.hpp"

namespace mpitune {

using namespace coord_detail;

std::string trial_checkpoint_dir(const std::string& root, TrialId id) {
  return root + "/trial-" + std::to_string(id);
}

std::string trial_preempt_dir(const std::string& root, TrialId id) {
  return trial_checkpoint_dir(root, id) + "-preempt";
}

void apply_folder_changes(CoordinatorCore& core) {
  for (const auto& [from, to] : core.take_moves()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(to).parent_path(), ec);
    std::filesystem::remove_all(to, ec);
    std::filesystem::rename(from, to, ec);
    if (ec)
      std::fprintf(stderr, "mpitune: warning: could not keep %s as %s: %s\n", from.c_str(), to.c_str(),
                   ec.message().c_str());
  }
  for (const auto& dir : core.take_deletions()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

CoordinatorCore::CoordinatorCore(const CoordinatorOptions& opts, Scheduler& scheduler,
                                 Searcher& searcher, ResultStore& store)
    : opts_(opts), scheduler_(scheduler), searcher_(searcher), store_(store),
      groups_(static_cast<size_t>(opts.num_groups)) {
  MPITUNE_CHECK(opts.num_groups >= 1, "a coordinator needs at least one group");
}

void CoordinatorCore::log_event(const std::string& kind, int group, std::vector<uint8_t> data, double now,
                                int64_t vtime) {
  EventRecord e;
  e.seq = next_event_++;
  e.time = now;
  e.vtime = vtime;
  now_ = now;
  vtime_ = vtime;
  e.group = group;
  e.kind = kind;
  e.data = std::move(data);
  store_.append_event(e);
}

bool CoordinatorCore::is_stale(const Message& m) const {
  const auto* r = std::get_if<ReportMsg>(&m);
  if (!r) return false;
  auto it = table_.find(r->trial);
  return it != table_.end() && r->step <= it->second.state.stale_until;
}

std::vector<Outgoing> CoordinatorCore::handle(int group, const Message& m, double now, int64_t vtime) {
  MPITUNE_CHECK(group >= 0 && group < static_cast<int>(groups_.size()), "message from unknown group " + std::to_string(group));
  if (std::holds_alternative<HeartbeatMsg>(m) || is_stale(m)) return {};
  log_event("message", group, encode(m), now, vtime);
  return finalize(dispatch(group, m, now));
}

std::vector<Outgoing> CoordinatorCore::finalize(std::vector<Outgoing> outs) {
  std::vector<Outgoing> sent;
  sent.reserve(outs.size() + releases_.size());
  // Host-cache copies no one needs, before anything else (a Shutdown in this batch would
  // come first otherwise); a group shut down or ending its job frees everything anyway.
  for (auto& r : releases_)
    if (!preempting_ && groups_[r.group].state != GroupState::Shut) sent.push_back(std::move(r));
  releases_.clear();
  for (auto& o : outs) {
    GroupInfo& g = groups_[o.group];
    if (auto* seg = std::get_if<SegmentMsg>(&o.message)) g.seg = *seg, g.parked = false;
    if (std::holds_alternative<FinalEvalMsg>(o.message)) g.final_order = o.message, g.parked = false;
    if (std::holds_alternative<SegmentMsg>(o.message) || std::holds_alternative<CheckpointMsg>(o.message) ||
        std::holds_alternative<FinalEvalMsg>(o.message))
      g.since = now_, g.since_vtime = vtime_;
    if (!preempting_ || std::holds_alternative<PreemptMsg>(o.message) || std::holds_alternative<ShutdownMsg>(o.message)) {
      sent.push_back(std::move(o));
      continue;
    }
    // Preempting: no new work goes out; the next job finds it in the replayed state.
    const bool needs_held_state = std::holds_alternative<CheckpointMsg>(o.message) ||
                                  (std::holds_alternative<SegmentMsg>(o.message) &&
                                   std::get<SegmentMsg>(o.message).init == SegmentInit::Continue);
    if (std::holds_alternative<SegmentMsg>(o.message) || std::holds_alternative<CheckpointMsg>(o.message) ||
        std::holds_alternative<FinalEvalMsg>(o.message))
      g.parked = true;
    // The group holds the trial this work needs: it checkpoints it instead.
    if (needs_held_state && !g.preempt_sent && g.trial >= 0) {
      g.preempt_sent = g.preempt_out = true;
      sent.push_back({o.group, PreemptMsg{g.trial, trial_preempt_dir(opts_.checkpoint_root, g.trial)}});
    }
  }
  return sent;
}

std::vector<Outgoing> CoordinatorCore::dispatch(int group, const Message& m, double now) {
  return std::visit(
      Overload{
          [&](const ReadyMsg&) {
            groups_[group].state = GroupState::Idle;
            return assign(group, now);
          },
          [&](const ReportMsg& r) { return on_report(group, r, now); },
          [&](const SegmentDoneMsg& d) { return on_segment_done(group, d, now); },
          [&](const TrialFailedMsg& f) { return on_trial_failed(group, f, now); },
          [&](const CheckpointDoneMsg& c) { return on_checkpoint_done(group, c, now); },
          [&](const StateReceivedMsg& r) { return on_state_received(group, r, now); },
          [&](const FinalEvalDoneMsg& f) { return on_final_eval_done(group, f, now); },
          [&](const PreemptedMsg& p) { return on_preempted(group, p, now); },
          [&](const PeriodicCheckpointMsg& p) { return on_periodic_checkpoint(group, p); },
          [&](const auto& other) -> std::vector<Outgoing> {
            throw InfraError(std::string("coordinator received unexpected ") + message_name(Message(other)));
          },
      },
      m);
}

bool CoordinatorCore::can_start_new() const {
  return !budget_spent_ && !searcher_exhausted_ && next_trial_ < opts_.max_trials;
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
  s.hparams = row_of(id).hparams;
  s.start = start;
  s.stop = stop;
  s.max_steps = scheduler_.max_steps();
  s.seed = state_of(id).seed;
  s.init = init;
  if (opts_.checkpoint_interval_s > 0) {
    s.checkpoint_every_s = opts_.checkpoint_interval_s;
    s.checkpoint_prefix = trial_checkpoint_dir(opts_.checkpoint_root, id) + "-step";
  }
  return s;
}

void CoordinatorCore::set_busy(int group, TrialId id, int64_t until) {
  GroupInfo& g = groups_[group];
  g = GroupInfo{};
  g.state = GroupState::Busy;
  g.trial = id;
  g.until = until;
  row_of(id).group = group;
  set_status(id, TrialStatus::Running, now_);
}

std::vector<Outgoing> CoordinatorCore::assign(int group, double now) {
  std::vector<Outgoing> out;
  if (groups_[group].state != GroupState::Idle) return out;
  // Work a previous job left unfinished comes first.
  if (start_recovery(group, out, now)) return out;
  // Once the budget is spent nothing new starts and nothing resumes.
  while (!budget_spent_) {
    const bool may_start = can_start_new();
    NextWork work = scheduler_.next(may_start);
    apply_other_decisions(work.others, now);
    const Assignment& a = work.assignment;
    if (a.kind == Assignment::Kind::NewTrial && may_start) {
      const TrialId id = next_trial_;
      auto hp = searcher_.suggest(id, a.budget);
      if (!hp) {
        searcher_exhausted_ = true;
        continue;  // ask the scheduler again, now without new trials
      }
      ++next_trial_;
      TrialRecord t;
      t.id = id;
      t.hparams = *hp;
      t.start_time = now;
      if (opts_.param_counts) std::tie(t.params_total, t.params_trainable) = opts_.param_counts(*hp);
      add_trial(t, derive_seed(opts_.seed, "trial", static_cast<uint64_t>(id)));
      TrialStart start = scheduler_.on_trial_start(id, *hp, a);
      apply_other_decisions(start.others, now);
      const int64_t until = start.until;
      set_busy(group, id, until);
      Decision d = Decision::cont(until, "new trial: " + hp->to_string());
      d.bracket = a.bracket;
      record_decision(id, 0, "start", d, now);
      out.push_back({group, segment_for(id, 0, until, SegmentInit::Fresh)});
      return out;
    }
    if (a.kind == Assignment::Kind::Resume) {
      TrialState& ts = state_of(a.trial);
      if (ts.clone_source >= 0) {  // a deferred (synchronous PBT) clone
        const TrialId source = ts.clone_source;
        ts.clone_source = -1;
        return start_clone(group, a.trial, source, a.until, now);
      }
      const TrialRecord& t = row_of(a.trial);
      Decision d = Decision::cont(a.until, "resume from step " + std::to_string(t.last_step));
      d.bracket = a.bracket;
      record_decision(a.trial, t.last_step, "resume", d, now);
      SegmentMsg seg = segment_for(a.trial, t.last_step, a.until, SegmentInit::Resume);
      return start_from_checkpoint(group, a.trial, seg, now);
    }
    break;  // Wait, Done, or a NewTrial we may not start: the group stays idle for now.
  }
  append(out, maybe_shutdown(now));
  return out;
}

// Nothing running, saving or about to run anywhere, and nothing to assign: the search has
// ended. The final evaluations come next, then the end.
std::vector<Outgoing> CoordinatorCore::maybe_shutdown(double now) {
  std::vector<Outgoing> out;
  for (const auto& gi : groups_)
    if (gi.state != GroupState::Idle && gi.state != GroupState::Shut) return out;
  if (final_phase_ == FinalPhase::Search)
    final_phase_ = begin_final_phase(now) ? FinalPhase::Evaluating : FinalPhase::Done;
  if (final_phase_ == FinalPhase::Evaluating) {
    if (assign_final_work(out, now)) return out;
    final_phase_ = FinalPhase::Done;
  }
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i].state == GroupState::Shut) continue;
    groups_[i].state = GroupState::Shut;
    out.push_back({static_cast<int>(i), ShutdownMsg{"experiment finished"}});
  }
  return out;
}

std::vector<Outgoing> CoordinatorCore::assign_idle_groups(double now) {
  std::vector<Outgoing> out;
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i].state != GroupState::Idle) continue;
    std::vector<Outgoing> got = assign(static_cast<int>(i), now);
    const bool nothing = got.empty() && groups_[i].state == GroupState::Idle;
    append(out, std::move(got));
    // The scheduler's next() does not depend on the group asking: once an idle group got
    // nothing, every other would get nothing too (each asking scanned Hyperband's brackets or
    // PBT's population: quadratic in the groups). Only a previous job's work may prefer a group.
    if (nothing && recovery_.empty()) break;
  }
  return out;
}

void CoordinatorCore::apply_other_decisions(const OtherDecisions& others, double now) {
  for (const TrialDecision& td : others) {
    TrialRecord& t = row_of(td.trial);
    const Decision& d = td.decision;
    switch (d.action) {
      case Action::Stop:
        record_decision(td.trial, t.last_step, "stop", d, now);
        end_trial(td.trial, TrialStatus::Stopped, d.reason, now);
        break;
      case Action::Rebase:  // recorded as the "clone" it is, carried out at its resume
        t.hparams = d.hparams;
        state_of(td.trial).clone_source = d.source;
        store_.upsert_trial(t);
        record_decision(td.trial, t.last_step, "clone",
                        Decision::make(Action::Clone, "at resume: copy trial " + std::to_string(d.source) +
                                                          ", then " + d.hparams.to_string()),
                        now);
        break;
      default:
        throw InfraError(std::string("unexpected '") + action_name(d.action) + "' decision about a paused trial");
    }
  }
}

bool CoordinatorCore::patience_ran_out(TrialId id, int64_t step, double v, std::string& why) {
  if (opts_.early_stop_patience <= 0 || std::isnan(v)) return false;
  TrialState& ts = state_of(id);
  const double loss = loss_of(v);  // +inf when not finite: never an improvement
  // As Keras' EarlyStopping: only an improvement by more than min_delta resets the count (and
  // moves the best).
  if (loss < ts.patience_best - opts_.early_stop_min_delta) {
    ts.patience_best = loss;
    ts.patience_used = 0;
    return false;
  }
  if (++ts.patience_used < opts_.early_stop_patience) return false;
  const double best = opts_.mode == Mode::Min ? ts.patience_best : -ts.patience_best;
  why = "early stopping: " + std::to_string(ts.patience_used) + " evaluations without an improvement of more than " +
        fmt(opts_.early_stop_min_delta) + " (best " + fmt(best) + ", now " + fmt(v) + " at step " +
        std::to_string(step) + ")";
  return true;
}

std::vector<Outgoing> CoordinatorCore::after_trial_end(int group, TrialId id, double now) {
  std::vector<Outgoing> out;
  if (wants_keep(id)) {
    GroupInfo& g = groups_[group];
    g.state = GroupState::Saving;
    g.trial = id;
    state_of(id).keeping = true;
    out.push_back({group, CheckpointMsg{id, trial_checkpoint_dir(opts_.keep_root, id)}});
    append(out, assign_idle_groups(now));
    return out;
  }
  append(out, assign(group, now));
  // A finished trial may unblock groups that were waiting (synchronous schedulers).
  append(out, assign_idle_groups(now));
  return out;
}

std::vector<std::pair<std::string, std::string>> CoordinatorCore::take_moves() {
  std::vector<std::pair<std::string, std::string>> out;
  out.swap(moves_);
  return out;
}

std::vector<std::string> CoordinatorCore::take_deletions() {
  // A folder a Reserved group is about to load (a clone of a trial that just ended) must stay
  // until that group has loaded it; such folders are deleted at the end instead.
  std::vector<std::string> out;
  for (auto& dir : deletions_) {
    bool needed = false;
    for (const auto& g : groups_) needed |= g.state == GroupState::Reserved && g.pending.checkpoint == dir;
    if (!needed) out.push_back(std::move(dir));
  }
  deletions_.clear();
  return out;
}

std::vector<Outgoing> CoordinatorCore::on_report(int group, const ReportMsg& r, double now) {
  std::vector<Outgoing> out;
  MPITUNE_CHECK(table_.count(r.trial), "report for unknown trial " + std::to_string(r.trial));
  record_metric(r.trial, r.step, r.metrics, now);
  store_.upsert_trial(row_of(r.trial));
  const double v = metric_of(r.metrics);
  if (std::isnan(v) || state_of(r.trial).stop_order || r.trial == retrain_trial_) return out;
  std::string why;
  if (patience_ran_out(r.trial, r.step, v, why)) {
    state_of(r.trial).stop_order = why;
    state_of(r.trial).early_stopping = true;
    record_decision(r.trial, r.step, "early_stop", Decision::make(Action::Stop, why), now);
    out.push_back({group, StopTrialMsg{r.trial, why, false}});
    return out;
  }
  const Decisions ds = scheduler_.on_report(r.trial, r.step, loss_of(v));
  apply_other_decisions(ds.others, now);
  const Decision& d = ds.own;
  if (d.action == Action::Stop) {
    state_of(r.trial).stop_order = d.reason;
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
  TrialState& ts0 = state_of(id);
  if (ts0.then != Recovery::Kind::Run) {
    // A resumed trial is back at the step of a pause or keep write its old job did not finish:
    // write it now (the scheduler decided it long ago; the step was recorded then).
    const bool keeping = ts0.then == Recovery::Kind::Keep;
    ts0.then = Recovery::Kind::Run;
    row_of(id).device_seconds += m.seconds * opts_.group_size;
    g.state = GroupState::Saving;
    if (keeping) {
      ts0.keeping = true;
      out.push_back({group, CheckpointMsg{id, trial_checkpoint_dir(opts_.keep_root, id)}});
    } else {
      ts0.saving = true;
      ts0.checkpoint_ready = false;
      out.push_back({group, CheckpointMsg{id, ts0.checkpoint, opts_.host_cache}});
    }
    return out;
  }
  record_metric(id, m.step, m.metrics, now);
  TrialRecord& t = row_of(id);
  t.device_seconds += m.seconds * opts_.group_size;
  g.state = GroupState::Idle;  // it still holds the trial's state until its next order

  std::optional<std::string>& stopped = state_of(id).stop_order;
  if (id == retrain_trial_) return on_retrain_done(group, m, now);
  if (m.interrupted || stopped) {
    const std::string why = stopped ? *stopped : "stopped";
    stopped.reset();
    apply_other_decisions(scheduler_.on_trial_failed(id), now);
    end_trial(id, state_of(id).early_stopping ? TrialStatus::EarlyStopped : TrialStatus::Stopped, why, now);
    return after_trial_end(group, id, now);
  }

  const double loss = loss_of(metric_of(m.metrics));
  searcher_.observe(id, t.hparams, static_cast<double>(m.step), loss);
  // Early stopping at a segment end (before max_t: a trial at its full budget completes).
  std::string why;
  if (m.step < scheduler_.max_steps() && patience_ran_out(id, m.step, metric_of(m.metrics), why)) {
    apply_other_decisions(scheduler_.on_trial_failed(id), now);
    record_decision(id, m.step, "early_stop", Decision::make(Action::Stop, why), now);
    end_trial(id, TrialStatus::EarlyStopped, why, now);
    return after_trial_end(group, id, now);
  }
  const Decisions ds = scheduler_.on_segment_end(id, m.step, loss);
  apply_other_decisions(ds.others, now);
  const Decision& d = ds.own;
  if (budget_spent_ && d.action != Action::Complete && d.action != Action::Stop) {
    // No more training once the budget is spent.
    Decision s = Decision::make(Action::Stop, "time budget reached");
    record_decision(id, m.step, "stop", s, now);
    apply_other_decisions(scheduler_.on_trial_failed(id), now);
    end_trial(id, TrialStatus::Stopped, s.reason, now);
  } else {
    switch (d.action) {
      case Action::Continue:
        record_decision(id, m.step, "continue", d, now);
        set_busy(group, id, d.until);
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
      case Action::Pause: {
        record_decision(id, m.step, "pause", d, now);
        set_status(id, TrialStatus::Paused, now);
        TrialState& ts = state_of(id);
        ts.checkpoint = trial_checkpoint_dir(opts_.checkpoint_root, id);
        ts.saving = true;
        ts.checkpoint_ready = false;
        g.state = GroupState::Saving;
        g.trial = id;
        out.push_back({group, CheckpointMsg{id, ts.checkpoint, opts_.host_cache}});
        append(out, assign_idle_groups(now));
        return out;
      }
      case Action::Clone:
        t.hparams = d.hparams;
        store_.upsert_trial(t);
        append(out, start_clone(group, id, d.source, d.until, now));
        append(out, assign_idle_groups(now));
        return out;
      case Action::Rebase:
        throw InfraError(scheduler_.name() + ": a Rebase is about a paused trial, never the one that reported (trial " +
                         std::to_string(id) + ")");
    }
  }
  return after_trial_end(group, id, now);
}

std::vector<Outgoing> CoordinatorCore::on_checkpoint_done(int group, const CheckpointDoneMsg& c, double now) {
  std::vector<Outgoing> out;
  GroupInfo& g = groups_[group];
  MPITUNE_CHECK(g.state == GroupState::Saving && g.trial == c.trial,
                "group " + std::to_string(group) + " checkpointed trial " + std::to_string(c.trial) +
                    " it was not asked to");
  g.state = GroupState::Idle;
  g.trial = -1;
  TrialState& ts = state_of(c.trial);
  row_of(c.trial).device_seconds += c.seconds * opts_.group_size;
  if (ts.keeping) {  // its final weights, not a pause
    ts.keeping = false;
    store_.upsert_trial(row_of(c.trial));
    // With keep = best, a better trial may have ended while these weights were written (its
    // own are being written, or kept already): then these go.
    if (wants_keep(c.trial)) mark_kept(c.trial);
    else deletions_.push_back(trial_checkpoint_dir(opts_.keep_root, c.trial));
    append(out, assign(group, now));
    append(out, assign_idle_groups(now));
    return out;
  }
  ts.saving = false;
  ts.checkpoint_ready = true;
  set_resume_point(c.trial, ts.checkpoint, c.step);
  if (ts.memory_group >= 0 && ts.memory_group != group) releases_.push_back({ts.memory_group, ReleaseStateMsg{c.trial}});
  ts.memory_group = c.cached_bytes > 0 ? group : -1;
  ts.memory_bytes = c.cached_bytes;
  // Stopped while it was being written (e.g. it lost its rung): no one will resume it; it may
  // be kept.
  if (is_terminal(row_of(c.trial).status)) {
    if (wants_keep(c.trial)) {
      moves_.emplace_back(ts.checkpoint, trial_checkpoint_dir(opts_.keep_root, c.trial));
      mark_kept(c.trial);
    } else {
      deletions_.push_back(ts.checkpoint);
    }
    ts.checkpoint_ready = false;
  }
  // Groups that were waiting for this checkpoint start now.
  for (size_t h = 0; h < groups_.size(); ++h) {
    GroupInfo& gh = groups_[h];
    if (gh.state != GroupState::Reserved || gh.waits_for != c.trial) continue;
    gh.state = GroupState::Busy;
    gh.waits_for = -1;
    out.push_back({static_cast<int>(h), std::move(gh.pending)});
    gh.pending = SegmentMsg{};
  }
  append(out, assign(group, now));
  append(out, assign_idle_groups(now));
  return out;
}

std::vector<Outgoing> CoordinatorCore::on_trial_failed(int group, const TrialFailedMsg& f, double now) {
  GroupInfo& g = groups_[group];
  if (f.trial == retrain_trial_ && g.state == GroupState::Busy) {
    g.state = GroupState::Idle;
    g.trial = -1;
    --final_running_;
    record_decision(f.trial, f.step, "fail", Decision::make(Action::Stop, f.reason), now);
    end_trial(f.trial, TrialStatus::Failed, f.reason, now);
    return maybe_shutdown(now);
  }
  MPITUNE_CHECK((g.state == GroupState::Busy || g.state == GroupState::Saving) && g.trial == f.trial,
                "group " + std::to_string(group) + " reported a failure of trial " + std::to_string(f.trial) +
                    " it was not running");
  const TrialId id = f.trial;
  const int64_t target = g.until;
  TrialRecord& t = row_of(id);
  t.device_seconds += f.seconds * opts_.group_size;
  if (state_of(id).keeping) {
    // The trial itself had ended well; only writing its final weights failed.
    state_of(id).keeping = false;
    g.state = GroupState::Idle;
    g.trial = -1;
    t.reason += " (its final weights could not be kept: " + f.reason + ")";
    store_.upsert_trial(t);
    auto out = assign(group, now);
    append(out, assign_idle_groups(now));
    return out;
  }
  TrialState& ts = state_of(id);
  if (g.state == GroupState::Busy && ts.failures < opts_.max_failures_per_trial && !ts.stop_order) {
    // Try again: its segment as a recovery item this group takes at once.
    ++ts.failures;
    Recovery r;
    r.kind = ts.then;
    r.prefer_group = group, r.trial = id, r.until = g.until, r.seg = g.seg, r.retry = true;
    record_decision(id, f.step, "retry",
                    Decision::cont(g.until, "failed (" + f.reason + "): trying again (" + std::to_string(ts.failures) +
                                                " of experiment.max_failures_per_trial = " +
                                                std::to_string(opts_.max_failures_per_trial) + ")"),
                    now);
    recovery_.insert(recovery_.begin(), std::move(r));
    g.state = GroupState::Idle;
    g.trial = -1;
    auto out = assign(group, now);
    append(out, assign_idle_groups(now));
    return out;
  }
  t.last_step = std::max(t.last_step, f.step);
  g.state = GroupState::Idle;
  g.trial = -1;
  ts.saving = false;
  ts.stop_order.reset();
  apply_other_decisions(scheduler_.on_trial_failed(id), now);
  // BOHB models per budget: a failure counts against the budget the segment was going for.
  searcher_.observe(id, t.hparams, static_cast<double>(std::max(target, f.step)),
                    std::numeric_limits<double>::infinity());
  record_decision(id, f.step, "fail", Decision::make(Action::Stop, f.reason), now);
  end_trial(id, TrialStatus::Failed, f.reason, now);
  // Groups waiting for this trial's checkpoint will not get it: they go back to the pool.
  for (auto& gh : groups_) {
    if (gh.state != GroupState::Reserved || gh.waits_for != id) continue;
    const TrialId waiting = gh.pending.trial;
    gh = GroupInfo{};
    gh.state = GroupState::Idle;
    apply_other_decisions(scheduler_.on_trial_failed(waiting), now);
    end_trial(waiting, TrialStatus::Failed, "the checkpoint it needed failed: " + f.reason, now);
  }
  auto out = assign(group, now);
  append(out, assign_idle_groups(now));
  return out;
}

std::vector<Outgoing> CoordinatorCore::tick(double now) {
  if (opts_.time_budget_s > 0 && !budget_spent_ && !preempting_ &&
      now - opts_.start_time - opts_.offline_s >= opts_.time_budget_s)
    return spend_budget(now);
  return {};
}

std::vector<Outgoing> CoordinatorCore::spend_budget(double now) {
  std::vector<Outgoing> out;
  if (budget_spent_) return out;
  log_event("budget", -1, {}, now);
  {
    budget_spent_ = true;
    for (size_t i = 0; i < groups_.size(); ++i) {
      const GroupInfo& g = groups_[i];
      if (g.state != GroupState::Busy || state_of(g.trial).stop_order) continue;
      state_of(g.trial).stop_order = "time budget reached";
      // Its one final evaluation, at the step it reached (it then takes part in the choice of
      // the best), unless the budget is already past by more than the margin.
      const double margin =
          opts_.budget_eval_margin_s > 0 ? opts_.budget_eval_margin_s : std::max(30.0, 0.1 * opts_.time_budget_s);
      const bool evaluate = now - opts_.start_time - opts_.offline_s <= opts_.time_budget_s + margin;
      out.push_back({static_cast<int>(i), StopTrialMsg{g.trial, "time budget reached", evaluate}});
    }
    append(out, maybe_shutdown(now));
  }
  return finalize(std::move(out));
}

std::vector<int> CoordinatorCore::working_groups() const {
  std::vector<int> out;
  for (size_t i = 0; i < groups_.size(); ++i) {
    const GroupInfo& g = groups_[i];
    const bool owes = g.preempt_out || (!g.parked && (g.state == GroupState::Busy || g.state == GroupState::Saving ||
                                                       g.state == GroupState::Final));
    if (owes) out.push_back(static_cast<int>(i));
  }
  return out;
}

bool CoordinatorCore::done() const {
  for (const auto& g : groups_)
    if (g.state != GroupState::Shut) return false;
  return true;
}

StatusSnapshot CoordinatorCore::snapshot(double now) const {
  StatusSnapshot s;
  s.elapsed_s = now - opts_.start_time - opts_.offline_s;
  const double job_start = opts_.job_start_time > 0 ? opts_.job_start_time : opts_.start_time;
  s.device_minutes = (opts_.prior_device_seconds + (now - job_start) * opts_.world_size) / 60.0;
  s.created = next_trial_;
  for (const auto& [id, e] : table_) {
    switch (e.row.status) {
      case TrialStatus::Pending:
      case TrialStatus::Running: ++s.running; break;
      case TrialStatus::Paused: ++s.paused; break;
      case TrialStatus::Completed: ++s.completed; break;
      case TrialStatus::Stopped:
      case TrialStatus::EarlyStopped: ++s.stopped; break;
      case TrialStatus::Failed: ++s.failed; break;
    }
  }
  s.best_trial = best_trial_;
  s.best_metric = best_metric_;
  if (best_trial_ >= 0) s.best_hparams = row_of(best_trial_).hparams;
  for (size_t i = 0; i < groups_.size(); ++i)
    if (groups_[i].state == GroupState::Busy)
      s.busy.push_back({static_cast<int>(i), groups_[i].trial, row_of(groups_[i].trial).last_step});
  return s;
}

void CoordinatorCore::write_summary(const std::string& status, double now) {
  SummaryRecord s;
  s.status = status;
  s.end_time = status == "running" ? kNaN : now;
  s.elapsed_s = now - opts_.start_time - opts_.offline_s;
  const double job_start = opts_.job_start_time > 0 ? opts_.job_start_time : opts_.start_time;
  s.device_seconds = opts_.prior_device_seconds + (now - job_start) * opts_.world_size;
  s.trials = next_trial_;
  const BestChoice best = best_choice(/*ended_only=*/false);
  s.best_trial = best.trial;
  s.best_metric = best.metric;
  s.best_budget = best.budget;
  s.best_any_trial = best_trial_;
  s.best_any_metric = best_metric_;
  store_.set_summary(s);
}

void CoordinatorCore::finish(double now) {
  // Trials still marked running (an abnormal end) are closed as stopped so the file is
  // consistent. Paused trials can no longer resume after a normal end or a spent budget: stopped.
  // (An interrupted job ends with finish_interrupted instead: its trials resume in the next job.)
  for (auto& [id, e] : table_) {
    if (e.row.status == TrialStatus::Running || e.row.status == TrialStatus::Pending)
      end_trial(id, TrialStatus::Stopped, "experiment ended", now);
    else if (e.row.status == TrialStatus::Paused)
      end_trial(id, TrialStatus::Stopped, budget_spent_ ? "time budget reached" : "experiment ended", now);
  }
  for (auto& [id, e] : table_)
    if (e.state.checkpoint_ready && is_terminal(e.row.status)) deletions_.push_back(e.state.checkpoint);
  write_summary("finished", now);
  store_.flush();
}

void CoordinatorCore::finish_aborted(double now) {
  write_summary("aborted", now);
  store_.flush();
}

}  // namespace mpitune
