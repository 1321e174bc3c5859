#include "mpitune/coord/coordinator_core.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <tuple>

#include "mpitune/core/bootstrap.hpp"
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

bool is_terminal(TrialStatus s) {
  return s == TrialStatus::Completed || s == TrialStatus::Stopped || s == TrialStatus::Failed ||
         s == TrialStatus::EarlyStopped;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void append(std::vector<Outgoing>& out, std::vector<Outgoing> more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

}  // namespace

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
  auto it = state_.find(r->trial);
  return it != state_.end() && r->step <= it->second.stale_until;
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
  s.hparams = trials_.at(id).hparams;
  s.start = start;
  s.stop = stop;
  s.max_steps = scheduler_.max_steps();
  s.seed = state_.at(id).seed;
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
  TrialRecord& t = trials_.at(id);
  t.status = TrialStatus::Running;
  t.group = group;
  store_.upsert_trial(t);
}

std::vector<Outgoing> CoordinatorCore::assign(int group, double now) {
  std::vector<Outgoing> out;
  if (groups_[group].state != GroupState::Idle) return out;
  // Work a previous job left unfinished comes first.
  if (start_recovery(group, out, now)) return out;
  // Once the budget is spent nothing new starts and nothing resumes.
  while (!budget_spent_) {
    const bool may_start = can_start_new();
    const Assignment a = scheduler_.next(may_start);
    apply_other_decisions(now);
    if (a.kind == Assignment::Kind::NewTrial && may_start) {
      const TrialId id = next_trial_;
      auto hp = searcher_.suggest(id, a.budget);
      if (!hp) {
        searcher_exhausted_ = true;
        continue;  // ask the scheduler again, now without new trials
      }
      ++next_trial_;
      state_[id].seed = derive_seed(opts_.seed, "trial", static_cast<uint64_t>(id));
      TrialRecord t;
      t.id = id;
      t.hparams = *hp;
      t.start_time = now;
      if (opts_.param_counts) std::tie(t.params_total, t.params_trainable) = opts_.param_counts(*hp);
      trials_[id] = t;
      const int64_t until = scheduler_.on_trial_start(id, *hp, a);
      apply_other_decisions(now);
      set_busy(group, id, until);
      Decision d = Decision::cont(until, "new trial: " + hp->to_string());
      d.bracket = a.bracket;
      record_decision(id, 0, "start", d, now);
      out.push_back({group, segment_for(id, 0, until, SegmentInit::Fresh)});
      return out;
    }
    if (a.kind == Assignment::Kind::Resume) {
      TrialState& ts = state_.at(a.trial);
      if (ts.clone_source >= 0) {  // a deferred (synchronous PBT) clone
        const TrialId source = ts.clone_source;
        ts.clone_source = -1;
        return start_clone(group, a.trial, source, a.until, now);
      }
      const TrialRecord& t = trials_.at(a.trial);
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
  for (size_t i = 0; i < groups_.size(); ++i)
    if (groups_[i].state == GroupState::Idle) append(out, assign(static_cast<int>(i), now));
  return out;
}

std::vector<Outgoing> CoordinatorCore::start_from_checkpoint(int group, TrialId ckpt_of, SegmentMsg seg, double now) {
  const TrialState& src = state_.at(ckpt_of);
  MPITUNE_CHECK(src.checkpoint_ready || src.saving,
                "trial " + std::to_string(ckpt_of) + " has no checkpoint to start from");
  seg.checkpoint = src.checkpoint;
  const int holder = src.memory_group;
  const bool holder_free = holder >= 0 && (holder == group || groups_[holder].state == GroupState::Idle ||
                                           groups_[holder].state == GroupState::Reserved ||
                                           groups_[holder].state == GroupState::Saving);
  if (src.checkpoint_ready && holder >= 0 && (holder_free || src.memory_bytes >= opts_.host_cache_wait_bytes)) {
    // From the host cache of the group that paused it, rank to rank; the files stay the
    // fallback (seg.checkpoint) should the copy be gone.
    seg.init = SegmentInit::Clone;
    seg.source_trial = ckpt_of;
    seg.source_group = holder;
    if (ckpt_of == seg.trial) state_.at(ckpt_of).memory_group = -1;  // the copy moves here
    state_.at(seg.trial).clone_via = "memory";
    set_busy(group, seg.trial, seg.stop);
    if (holder == group) return {{group, std::move(seg)}};
    return {{holder, SendStateMsg{ckpt_of, group, seg.trial}}, {group, std::move(seg)}};
  }
  if (holder >= 0 && ckpt_of == seg.trial) {  // resumed from its files: the cached copy is stale now
    releases_.push_back({holder, ReleaseStateMsg{ckpt_of}});
    state_.at(ckpt_of).memory_group = -1;
  }
  set_busy(group, seg.trial, seg.stop);
  if (src.checkpoint_ready) return {{group, std::move(seg)}};
  // The checkpoint is still being written: the group waits for it.
  GroupInfo& g = groups_[group];
  g.state = GroupState::Reserved;
  g.waits_for = ckpt_of;
  g.pending = std::move(seg);
  return {};
}

std::vector<Outgoing> CoordinatorCore::start_clone(int group, TrialId trial, TrialId source, int64_t until,
                                                   double now) {
  TrialRecord& t = trials_.at(trial);
  const TrialRecord& src = trials_.at(source);
  t.parent = source;
  const int64_t from_step = src.last_step;
  Decision d = Decision::cont(until, "copy the state of trial " + std::to_string(source) + " at step " +
                                         std::to_string(from_step) + ", then " + t.hparams.to_string());
  record_decision(trial, from_step, "clone", d, now);

  // Once the source's state replaces the target's, the target's own checkpoints are of another
  // lineage: a later job must not resume it from them.
  auto forget_own_state = [&] {
    TrialState& tts = state_.at(trial);
    if (!tts.resume_dir.empty() && tts.resume_dir != tts.checkpoint) deletions_.push_back(tts.resume_dir);
    tts.resume_dir.clear();
    tts.resume_step = -1;
  };
  // The source is training on a group: its ranks send their state straight to ours.
  for (size_t h = 0; h < groups_.size(); ++h) {
    const GroupInfo& gh = groups_[h];
    if (gh.state == GroupState::Busy && gh.trial == source) {
      forget_own_state();
      state_.at(trial).clone_via = "ranks";
      SegmentMsg seg = segment_for(trial, from_step, until, SegmentInit::Clone);
      seg.source_trial = source;
      seg.source_group = static_cast<int>(h);
      set_busy(group, trial, until);
      return {{static_cast<int>(h), SendStateMsg{source, group, trial}}, {group, std::move(seg)}};
    }
  }
  // The source is paused: load its checkpoint (now, or once it is written).
  const TrialState& ss = state_.at(source);
  if (src.status == TrialStatus::Paused && (ss.checkpoint_ready || ss.saving)) {
    forget_own_state();
    SegmentMsg seg = segment_for(trial, from_step, until, SegmentInit::Resume);
    seg.source_trial = source;
    return start_from_checkpoint(group, source, std::move(seg), now);
  }
  // The source's state is gone (it finished meanwhile): explore only, from our own state.
  const int64_t own = t.last_step;
  const int64_t own_until = std::min(scheduler_.max_steps(), own + (until - from_step));
  record_decision(trial, own, "continue",
                  Decision::cont(own_until, "source trial " + std::to_string(source) +
                                                " is no longer held anywhere: explore only"),
                  now);
  const bool held_here = groups_[group].trial == trial;
  SegmentMsg seg = segment_for(trial, own, own_until, held_here ? SegmentInit::Continue : SegmentInit::Resume);
  if (held_here) {
    set_busy(group, trial, own_until);
    return {{group, std::move(seg)}};
  }
  return start_from_checkpoint(group, trial, std::move(seg), now);
}

void CoordinatorCore::apply_other_decisions(double now) {
  for (const TrialDecision& td : scheduler_.take_decisions()) {
    TrialRecord& t = trials_.at(td.trial);
    const Decision& d = td.decision;
    switch (d.action) {
      case Action::Stop:
        record_decision(td.trial, t.last_step, "stop", d, now);
        end_trial(td.trial, TrialStatus::Stopped, d.reason, now);
        break;
      case Action::Clone:
        MPITUNE_CHECK(d.until == 0, "a Clone from take_decisions() must be deferred (until = 0)");
        t.hparams = d.hparams;
        state_.at(td.trial).clone_source = d.source;
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

  TrialRecord& t = trials_.at(id);
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

void CoordinatorCore::end_trial(TrialId id, TrialStatus status, const std::string& reason, double now) {
  TrialRecord& t = trials_.at(id);
  const bool was_paused = t.status == TrialStatus::Paused;
  t.status = status;
  t.end_time = now;
  t.reason = reason;
  store_.upsert_trial(t);
  // It can never resume: its checkpoint goes (once written, if a write is still under way), or
  // becomes its kept weights when it was paused (its checkpoint is then its final state).
  TrialState& ts = state_.at(id);
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

bool CoordinatorCore::wants_keep(TrialId id) const {
  if (trials_.at(id).status == TrialStatus::Failed) return false;
  if (opts_.keep == "all") return true;
  return opts_.keep == "best" && id == best_choice(/*ended_only=*/true).trial;
}

BestChoice CoordinatorCore::best_choice(bool ended_only) const {
  std::vector<const TrialRecord*> candidates;
  candidates.reserve(trials_.size());
  for (const auto& [id, t] : trials_)
    if (id != retrain_trial_ && (!ended_only || is_terminal(t.status))) candidates.push_back(&t);
  return select_best_trial(candidates, scheduler_.max_steps(), opts_.mode == Mode::Max);
}

bool CoordinatorCore::patience_ran_out(TrialId id, int64_t step, double v, std::string& why) {
  if (opts_.early_stop_patience <= 0 || std::isnan(v)) return false;
  TrialState& ts = state_.at(id);
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

bool CoordinatorCore::begin_final_phase(double now) {
  if (!opts_.final_eval) return false;
  // Paused trials can no longer resume (finish() would end them): they end now, so that one of
  // them that is the best is kept (its checkpoint moves to the keep root) and evaluated.
  for (auto& [id, t] : trials_)
    if (t.status == TrialStatus::Paused)
      end_trial(id, TrialStatus::Stopped, budget_spent_ ? "time budget reached" : "experiment ended", now);
  const BestChoice best = best_choice(/*ended_only=*/true);
  if (best.trial < 0) return false;
  const TrialRecord& bt = trials_.at(best.trial);
  const uint64_t seed = state_.at(best.trial).seed;
  const int64_t max_steps = scheduler_.max_steps();
  auto final_eval = [&](const std::string& label, const std::string& checkpoint) {
    FinalEvalMsg f;
    f.label = label;
    f.trial = best.trial;
    f.hparams = bt.hparams;
    f.seed = seed;
    f.max_steps = max_steps;
    f.checkpoint = checkpoint;
    return f;
  };
  if (opts_.final_retrain) {
    const TrialId id = next_trial_++;
    retrain_trial_ = id;
    state_[id].seed = opts_.final_seed;
    TrialRecord t;
    t.id = id;
    t.hparams = bt.hparams;
    t.start_time = now;
    t.params_total = bt.params_total;
    t.params_trainable = bt.params_trainable;
    trials_[id] = t;
    record_decision(id, 0, "start",
                    Decision::cont(max_steps, "final retrain of the best configuration (trial " +
                                                  std::to_string(best.trial) + ") at max_t with seed " +
                                                  std::to_string(opts_.final_seed)),
                    now);
    final_queue_.push_back({-1, segment_for(id, 0, max_steps, SegmentInit::Fresh)});
  } else if (kept_.count(best.trial)) {
    final_queue_.push_back({-1, final_eval("best", trial_checkpoint_dir(opts_.keep_root, best.trial))});
  } else {
    record_decision(best.trial, bt.last_step, "final_eval",
                    Decision::make(Action::Complete, "the best trial was not evaluated on the test split: its final "
                                                     "weights were not kept (experiment.keep = " + opts_.keep + ")"),
                    now);
  }
  if (opts_.final_base) final_queue_.push_back({-1, final_eval("base", "")});
  return !final_queue_.empty();
}

bool CoordinatorCore::assign_final_work(std::vector<Outgoing>& out, double now) {
  for (auto it = final_queue_.begin(); it != final_queue_.end();) {
    int group = it->prefer_group;
    if (group < 0)
      for (size_t i = 0; i < groups_.size() && group < 0; ++i)
        if (groups_[i].state == GroupState::Idle) group = static_cast<int>(i);
    if (group < 0 || groups_[group].state != GroupState::Idle) {
      ++it;
      continue;
    }
    if (auto* seg = std::get_if<SegmentMsg>(&it->order)) {
      set_busy(group, seg->trial, seg->stop);
    } else {
      groups_[group].state = GroupState::Final;
      groups_[group].trial = std::get<FinalEvalMsg>(it->order).trial;
    }
    ++final_running_;
    out.push_back({group, std::move(it->order)});
    it = final_queue_.erase(it);
  }
  (void)now;
  return !final_queue_.empty() || final_running_ > 0;
}

void CoordinatorCore::mark_kept(TrialId id) {
  if (opts_.keep == "best")
    for (TrialId other : kept_)
      if (other != id) deletions_.push_back(trial_checkpoint_dir(opts_.keep_root, other));
  if (opts_.keep == "best") kept_.clear();
  kept_.insert(id);
}

std::vector<Outgoing> CoordinatorCore::after_trial_end(int group, TrialId id, double now) {
  std::vector<Outgoing> out;
  if (wants_keep(id)) {
    GroupInfo& g = groups_[group];
    g.state = GroupState::Saving;
    g.trial = id;
    state_.at(id).keeping = true;
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
  MPITUNE_CHECK(trials_.count(r.trial), "report for unknown trial " + std::to_string(r.trial));
  record_metric(r.trial, r.step, r.metrics, now);
  store_.upsert_trial(trials_.at(r.trial));
  const double v = metric_of(r.metrics);
  if (std::isnan(v) || stop_reasons_.count(r.trial) || r.trial == retrain_trial_) return out;
  std::string why;
  if (patience_ran_out(r.trial, r.step, v, why)) {
    stop_reasons_[r.trial] = why;
    state_.at(r.trial).early_stopping = true;
    record_decision(r.trial, r.step, "early_stop", Decision::make(Action::Stop, why), now);
    out.push_back({group, StopTrialMsg{r.trial, why, false}});
    return out;
  }
  const Decision d = scheduler_.on_report(r.trial, r.step, loss_of(v));
  apply_other_decisions(now);
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
  TrialState& ts0 = state_.at(id);
  if (ts0.then != Recovery::Kind::Run) {
    // A resumed trial is back at the step of a pause or keep write its old job did not finish:
    // write it now (the scheduler decided it long ago; the step was recorded then).
    const bool keeping = ts0.then == Recovery::Kind::Keep;
    ts0.then = Recovery::Kind::Run;
    trials_.at(id).device_seconds += m.seconds * opts_.group_size;
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
  TrialRecord& t = trials_.at(id);
  t.device_seconds += m.seconds * opts_.group_size;
  g.state = GroupState::Idle;  // it still holds the trial's state until its next order

  auto stopped = stop_reasons_.find(id);
  if (id == retrain_trial_) return on_retrain_done(group, m, now);
  if (m.interrupted || stopped != stop_reasons_.end()) {
    const std::string why = stopped != stop_reasons_.end() ? stopped->second : "stopped";
    stop_reasons_.erase(id);
    scheduler_.on_trial_failed(id);
    apply_other_decisions(now);
    end_trial(id, state_.at(id).early_stopping ? TrialStatus::EarlyStopped : TrialStatus::Stopped, why, now);
    return after_trial_end(group, id, now);
  }

  const double loss = loss_of(metric_of(m.metrics));
  searcher_.observe(id, t.hparams, static_cast<double>(m.step), loss);
  // Early stopping at a segment end (before max_t: a trial at its full budget completes).
  std::string why;
  if (m.step < scheduler_.max_steps() && patience_ran_out(id, m.step, metric_of(m.metrics), why)) {
    scheduler_.on_trial_failed(id);
    apply_other_decisions(now);
    record_decision(id, m.step, "early_stop", Decision::make(Action::Stop, why), now);
    end_trial(id, TrialStatus::EarlyStopped, why, now);
    return after_trial_end(group, id, now);
  }
  const Decision d = scheduler_.on_segment_end(id, m.step, loss);
  apply_other_decisions(now);
  if (budget_spent_ && d.action != Action::Complete && d.action != Action::Stop) {
    // No more training once the budget is spent.
    Decision s = Decision::make(Action::Stop, "time budget reached");
    record_decision(id, m.step, "stop", s, now);
    scheduler_.on_trial_failed(id);
    apply_other_decisions(now);
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
        t.status = TrialStatus::Paused;
        store_.upsert_trial(t);
        TrialState& ts = state_.at(id);
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
  TrialState& ts = state_.at(c.trial);
  trials_.at(c.trial).device_seconds += c.seconds * opts_.group_size;
  if (ts.keeping) {  // its final weights, not a pause
    ts.keeping = false;
    store_.upsert_trial(trials_.at(c.trial));
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
  if (is_terminal(trials_.at(c.trial).status)) {
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

std::vector<Outgoing> CoordinatorCore::on_state_received(int group, const StateReceivedMsg& r, double now) {
  if (r.source_trial == r.trial) {  // a paused trial back from a host cache: a resume, not an exploit
    if (r.ok) trials_.at(r.trial).last_step = r.step;
    return {};
  }
  TransferRecord rec;
  rec.time = now;
  rec.source_trial = r.source_trial;
  rec.source_group = r.source_group;
  rec.target_trial = r.trial;
  rec.target_group = group;
  rec.step = r.step;
  rec.bytes = r.bytes;
  rec.seconds = r.seconds;
  rec.new_values = trials_.at(r.trial).hparams;
  if (r.ok) rec.old_values = trials_.at(r.source_trial).hparams;
  rec.new_hparams = rec.new_values.to_string();
  rec.old_hparams = r.ok ? rec.old_values.to_string() : "";
  rec.payload = opts_.transfer_payload;
  // As ordered (the source may have resumed since), unless the copy fell back to the files.
  rec.via = r.source_group < 0 ? "files" : state_.at(r.trial).clone_via;
  if (r.ok) {
    store_.append_transfer(rec);
    trials_.at(r.trial).last_step = r.step;
  } else {
    trials_.at(r.trial).parent = -1;
    store_.upsert_trial(trials_.at(r.trial));
    record_decision(r.trial, r.step, "continue",
                    Decision::make(Action::Continue, "clone failed (" + r.reason + "): explore only"), now);
  }
  return {};
}

// The final retrain reached max_t (its evaluation on the test split comes next, on the group
// that holds it) or was stopped (the time budget: no evaluation).
std::vector<Outgoing> CoordinatorCore::on_retrain_done(int group, const SegmentDoneMsg& m, double now) {
  const TrialId id = m.trial;
  auto stopped = stop_reasons_.find(id);
  if (m.interrupted || stopped != stop_reasons_.end()) {
    const std::string why = stopped != stop_reasons_.end() ? stopped->second : "stopped";
    stop_reasons_.erase(id);
    record_decision(id, m.step, "stop", Decision::make(Action::Stop, why), now);
    end_trial(id, TrialStatus::Stopped, why, now);
    --final_running_;
    return maybe_shutdown(now);
  }
  record_decision(id, m.step, "complete", Decision::make(Action::Complete, "final retrain reached max_t"), now);
  end_trial(id, TrialStatus::Completed, "final retrain of the best configuration", now);
  const TrialRecord& t = trials_.at(id);
  FinalEvalMsg f;
  f.label = "retrain";
  f.trial = id;
  f.hparams = t.hparams;
  f.seed = state_.at(id).seed;
  f.max_steps = scheduler_.max_steps();
  f.held = true;
  groups_[group].state = GroupState::Final;
  groups_[group].trial = id;
  return {{group, f}};
}

std::vector<Outgoing> CoordinatorCore::on_final_eval_done(int group, const FinalEvalDoneMsg& f, double now) {
  GroupInfo& g = groups_[group];
  MPITUNE_CHECK(g.state == GroupState::Final, "group " + std::to_string(group) +
                                                  " sent a final evaluation it was not asked for");
  g.state = GroupState::Idle;
  g.trial = -1;
  --final_running_;
  int64_t tokens = 0;
  for (int64_t n : f.doc_tokens) tokens += n;
  std::string problem = f.ok ? "" : f.reason;
  if (f.ok && (f.doc_tokens.size() != f.doc_loss_sums.size() || tokens == 0))
    problem = "the test split has no counted token";
  if (!problem.empty()) {
    record_decision(f.trial, f.step, "final_eval",
                    Decision::make(Action::Complete, f.label + ": the test evaluation failed: " + problem), now);
    return maybe_shutdown(now);
  }
  const BootstrapInterval b =
      bootstrap_mean_loss(f.doc_loss_sums, f.doc_tokens, opts_.final_bootstrap, derive_seed(opts_.seed, "final"));
  FinalRecord r;
  r.label = f.label;
  r.trial = f.trial;
  r.step = f.step;
  r.hparams = trials_.count(f.trial) ? trials_.at(f.trial).hparams.to_string() : "";
  r.eval_loss = f.eval_loss;
  r.test_loss = b.estimate;
  r.test_ci_low = b.low;
  r.test_ci_high = b.high;
  r.test_documents = static_cast<int64_t>(f.doc_tokens.size());
  r.test_tokens = tokens;
  r.bootstrap = b.resamples;
  r.retention_loss = f.retention_loss;
  r.seconds = f.seconds;
  std::vector<FinalDocumentRecord> docs(f.doc_tokens.size());
  for (size_t i = 0; i < docs.size(); ++i) docs[i] = {f.label, static_cast<int64_t>(i), f.doc_loss_sums[i], f.doc_tokens[i]};
  store_.append_final(r, docs);
  trials_.at(f.trial).device_seconds += f.seconds * opts_.group_size;
  record_decision(f.trial, f.step, "final_eval",
                  Decision::make(Action::Complete, f.label + ": test loss " + fmt(b.estimate) + " [" + fmt(b.low) +
                                                       ", " + fmt(b.high) + "] over " + std::to_string(docs.size()) +
                                                       " test documents"),
                  now);
  return maybe_shutdown(now);
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
  TrialRecord& t = trials_.at(id);
  t.device_seconds += f.seconds * opts_.group_size;
  if (state_.at(id).keeping) {
    // The trial itself had ended well; only writing its final weights failed.
    state_.at(id).keeping = false;
    g.state = GroupState::Idle;
    g.trial = -1;
    t.reason += " (its final weights could not be kept: " + f.reason + ")";
    store_.upsert_trial(t);
    auto out = assign(group, now);
    append(out, assign_idle_groups(now));
    return out;
  }
  TrialState& ts = state_.at(id);
  if (g.state == GroupState::Busy && ts.failures < opts_.max_failures_per_trial && !stop_reasons_.count(id)) {
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
  stop_reasons_.erase(id);
  scheduler_.on_trial_failed(id);
  apply_other_decisions(now);
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
    scheduler_.on_trial_failed(waiting);
    apply_other_decisions(now);
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
      if (g.state != GroupState::Busy || stop_reasons_.count(g.trial)) continue;
      stop_reasons_[g.trial] = "time budget reached";
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

std::vector<Outgoing> CoordinatorCore::request_preempt(double now, const std::string& why) {
  std::vector<Outgoing> out;
  if (preempting_ || done()) return out;
  log_event("preempt", -1, std::vector<uint8_t>(why.begin(), why.end()), now);
  preempting_ = true;
  stop_why_ = why;
  for (size_t i = 0; i < groups_.size(); ++i) {
    GroupInfo& g = groups_[i];
    if (g.state == GroupState::Starting || g.state == GroupState::Shut) continue;
    // The trial whose state the group holds: the one it trains or writes, or the one it ended
    // a segment of (still in memory until its next order) when that trial goes on.
    TrialId held = -1;
    if (g.state == GroupState::Busy || g.state == GroupState::Saving) held = g.trial;
    if (g.state == GroupState::Idle && g.trial >= 0 && trials_.count(g.trial) && !is_terminal(trials_.at(g.trial).status))
      held = g.trial;
    g.preempt_sent = g.preempt_out = true;
    out.push_back({static_cast<int>(i), PreemptMsg{held, held >= 0 ? trial_preempt_dir(opts_.checkpoint_root, held) : ""}});
  }
  return out;
}

bool CoordinatorCore::preempt_complete() const {
  if (!preempting_) return false;
  for (const auto& g : groups_)
    if (g.preempt_out) return false;
  return true;
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

void CoordinatorCore::set_resume_point(TrialId id, const std::string& dir, int64_t step) {
  TrialState& ts = state_.at(id);
  if (!ts.resume_dir.empty() && ts.resume_dir != dir && ts.resume_dir != ts.checkpoint)
    deletions_.push_back(ts.resume_dir);
  ts.resume_dir = dir;
  ts.resume_step = step;
}

std::vector<Outgoing> CoordinatorCore::on_preempted(int group, const PreemptedMsg& p, double now) {
  GroupInfo& g = groups_[group];
  g.preempt_out = false;
  // Its running segment (if any) is abandoned: the next job resumes it.
  if (g.state == GroupState::Busy || g.state == GroupState::Final) g.parked = true;
  const std::string dir = p.trial >= 0 ? trial_preempt_dir(opts_.checkpoint_root, p.trial) : "";
  const bool usable = p.ok && p.trial >= 0 && trials_.count(p.trial) && !is_terminal(trials_.at(p.trial).status);
  if (p.trial >= 0 && trials_.count(p.trial)) trials_.at(p.trial).device_seconds += p.seconds * opts_.group_size;
  if (usable) set_resume_point(p.trial, dir, p.step);
  else if (!dir.empty()) deletions_.push_back(dir);
  (void)now;
  return {};
}

std::vector<Outgoing> CoordinatorCore::on_periodic_checkpoint(int group, const PeriodicCheckpointMsg& p) {
  const GroupInfo& g = groups_[group];
  // Still the state the trial goes on from: the newest place a later job resumes it.
  const bool current = g.state == GroupState::Busy && g.trial == p.trial && trials_.count(p.trial) &&
                       !is_terminal(trials_.at(p.trial).status);
  if (current) set_resume_point(p.trial, p.dir, p.step);
  else deletions_.push_back(p.dir);
  return {};
}

void CoordinatorCore::end_pending_stop(TrialId id, double now) {
  auto it = stop_reasons_.find(id);
  const std::string why = it->second;
  stop_reasons_.erase(it);
  scheduler_.on_trial_failed(id);
  apply_other_decisions(now);
  end_trial(id, state_.at(id).early_stopping ? TrialStatus::EarlyStopped : TrialStatus::Stopped, why, now);
}

std::vector<Outgoing> CoordinatorCore::begin_job(double now, int num_groups) {
  MPITUNE_CHECK(num_groups >= 1, "a job needs at least one group");
  const std::string text = std::to_string(num_groups);
  log_event("job", -1, std::vector<uint8_t>(text.begin(), text.end()), now);
  for (size_t i = 0; i < groups_.size(); ++i) {
    GroupInfo& g = groups_[i];
    const int prefer = static_cast<int>(i);
    switch (g.state) {
      case GroupState::Busy: {
        if (stop_reasons_.count(g.trial) && g.trial != retrain_trial_) {
          end_pending_stop(g.trial, now);
          break;
        }
        Recovery r;
        r.kind = state_.at(g.trial).then;  // a resumed pause/keep write that was cut again
        r.prefer_group = prefer, r.trial = g.trial, r.until = g.until, r.seg = g.seg;
        r.since = g.since, r.since_vtime = g.since_vtime;
        recovery_.push_back(std::move(r));
        break;
      }
      case GroupState::Saving: {
        TrialState& ts = state_.at(g.trial);
        TrialRecord& t = trials_.at(g.trial);
        const bool keeping = ts.keeping;
        const std::string target = keeping ? trial_checkpoint_dir(opts_.keep_root, g.trial) : ts.checkpoint;
        if (ts.resume_step == t.last_step && !ts.resume_dir.empty()) {
          // The preempt checkpoint is the state this write was to save: it becomes that write.
          moves_.emplace_back(ts.resume_dir, target);
          ts.resume_dir.clear();
          ts.resume_step = -1;
          if (keeping) {
            ts.keeping = false;
            if (wants_keep(g.trial)) mark_kept(g.trial);
            else deletions_.push_back(target);
          } else {
            ts.saving = false;
            ts.checkpoint_ready = true;
            set_resume_point(g.trial, ts.checkpoint, t.last_step);
          }
          break;
        }
        Recovery r;
        r.kind = keeping ? Recovery::Kind::Keep : Recovery::Kind::Pause;
        r.prefer_group = prefer, r.trial = g.trial, r.until = t.last_step, r.seg = g.seg;
        r.seg.start = t.last_step;  // the write takes no steps: its clock starts at the pause step
        r.since = g.since, r.since_vtime = g.since_vtime;
        recovery_.push_back(std::move(r));
        break;
      }
      case GroupState::Reserved: {
        Recovery r;
        r.kind = Recovery::Kind::Start;
        r.prefer_group = prefer, r.trial = g.pending.trial, r.until = g.pending.stop, r.seg = g.pending;
        r.waits_for = g.waits_for;
        r.since = g.since, r.since_vtime = g.since_vtime;
        recovery_.push_back(std::move(r));
        break;
      }
      case GroupState::Final:
        final_queue_.insert(final_queue_.begin(), FinalWork{-1, g.final_order});
        --final_running_;
        break;
      case GroupState::Starting:
      case GroupState::Idle:
      case GroupState::Shut:
        break;
    }
  }
  // The old job's host caches went with it; its release orders too.
  for (auto& [id, ts] : state_) ts.memory_group = -1;
  releases_.clear();
  // The new job is not preempted (its own signal will say so).
  preempting_ = false;
  stop_why_.clear();
  groups_.assign(static_cast<size_t>(num_groups), GroupInfo{});
  opts_.num_groups = num_groups;
  return {};
}

bool CoordinatorCore::start_recovery(int group, std::vector<Outgoing>& out, double now) {
  auto it = recovery_.begin();
  for (; it != recovery_.end(); ++it)
    if (it->prefer_group == group) break;
  if (it == recovery_.end())
    for (it = recovery_.begin(); it != recovery_.end(); ++it) {
      const int p = it->prefer_group;
      if (p < 0 || p >= static_cast<int>(groups_.size()) || groups_[p].state == GroupState::Shut) break;
    }
  if (it == recovery_.end()) return false;
  Recovery r = std::move(*it);
  recovery_.erase(it);
  TrialState& ts = state_.at(r.trial);
  TrialRecord& t = trials_.at(r.trial);
  if (r.kind == Recovery::Kind::Start) {
    const TrialState& src = state_.at(r.waits_for);
    if (src.checkpoint_ready || src.saving) {
      append(out, start_from_checkpoint(group, r.waits_for, r.seg, now));
      return true;
    }
    r.kind = Recovery::Kind::Run;  // its checkpoint is gone: it trains from its own state
  }
  SegmentMsg seg;
  std::string from;
  const SegmentMsg& old = r.seg;
  // The checkpoint the old segment was loaded from (its own, or a paused source's) is still
  // the complete checkpoint of that trial.
  const TrialId loaded_from = old.source_trial >= 0 ? old.source_trial : r.trial;
  const bool old_checkpoint_kept = old.init == SegmentInit::Resume && old.trial == r.trial && !old.checkpoint.empty() &&
                                   state_.at(loaded_from).checkpoint_ready &&
                                   state_.at(loaded_from).checkpoint == old.checkpoint;
  if (ts.resume_step >= 0 && ts.resume_step <= r.until) {
    seg = segment_for(r.trial, ts.resume_step, r.until, SegmentInit::Resume);
    seg.checkpoint = ts.resume_dir;
    from = "its checkpoint at step " + std::to_string(ts.resume_step);
  } else if (old_checkpoint_kept) {
    seg = old;  // the checkpoint it started from is still there
    seg.hparams = t.hparams;
    from = "the checkpoint its segment started from (step " + std::to_string(old.start) + ")";
  } else if (old.init == SegmentInit::Clone && old.source_trial >= 0 && state_.at(old.source_trial).resume_step >= 0) {
    const TrialState& src = state_.at(old.source_trial);
    seg = segment_for(r.trial, src.resume_step, std::min(scheduler_.max_steps(), r.until), SegmentInit::Resume);
    seg.checkpoint = src.resume_dir;
    seg.source_trial = old.source_trial;
    from = "the checkpoint of trial " + std::to_string(old.source_trial) + " it was cloned from, at step " +
           std::to_string(src.resume_step);
  } else {
    seg = segment_for(r.trial, 0, r.until, SegmentInit::Fresh);
    from = "step 0 (no checkpoint of its state was left)";
  }
  ts.stale_until = t.last_step;
  ts.then = r.kind;
  if (!r.retry) resumed_clocks_[r.trial] = ResumedClock{r.since, r.since_vtime, old.start};
  set_busy(group, r.trial, seg.stop);
  Decision d = Decision::cont(seg.stop, (r.retry ? "tried again from " : "the job that ran it ended: resumed from ") + from);
  record_decision(r.trial, seg.start, "resume", d, now);
  out.push_back({group, std::move(seg)});
  return true;
}

std::optional<CoordinatorCore::ResumedClock> CoordinatorCore::take_resumed_clock(TrialId id) {
  auto it = resumed_clocks_.find(id);
  if (it == resumed_clocks_.end()) return std::nullopt;
  ResumedClock c = it->second;
  resumed_clocks_.erase(it);
  return c;
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
  for (const auto& [id, t] : trials_) {
    switch (t.status) {
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
  for (auto& [id, t] : trials_) {
    if (t.status == TrialStatus::Running || t.status == TrialStatus::Pending)
      end_trial(id, TrialStatus::Stopped, "experiment ended", now);
    else if (t.status == TrialStatus::Paused)
      end_trial(id, TrialStatus::Stopped, budget_spent_ ? "time budget reached" : "experiment ended", now);
  }
  for (auto& [id, ts] : state_)
    if (ts.checkpoint_ready && is_terminal(trials_.at(id).status)) deletions_.push_back(ts.checkpoint);
  write_summary("finished", now);
  store_.flush();
}

std::vector<Outgoing> CoordinatorCore::finish_interrupted(double now) {
  for (auto& [id, t] : trials_) {
    if (t.status != TrialStatus::Running && t.status != TrialStatus::Pending) continue;
    // Its /trials row says what the next job will do; the replay rebuilds the rest.
    TrialRecord row = t;
    row.status = TrialStatus::Paused;
    const TrialState& ts = state_.at(id);
    row.reason = "interrupted (" + stop_why_ + ") at step " + std::to_string(t.last_step) + ": resumes from " +
                 (ts.resume_step >= 0 ? "its checkpoint at step " + std::to_string(ts.resume_step) : "step 0") +
                 " when the experiment is resumed";
    store_.upsert_trial(row);
  }
  write_summary("interrupted", now);
  store_.flush();
  std::vector<Outgoing> out;
  for (size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i].state == GroupState::Shut) continue;
    out.push_back({static_cast<int>(i), ShutdownMsg{"interrupted: " + stop_why_}});
  }
  for (auto& g : groups_) g.state = GroupState::Shut;
  return out;
}

void CoordinatorCore::finish_aborted(double now) {
  write_summary("aborted", now);
  store_.flush();
}

}  // namespace mpitune
