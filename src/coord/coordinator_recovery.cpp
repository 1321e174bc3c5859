// The coordinator across jobs (coordinator_core.hpp, "Resume" and "Preempt"): a preempt asks
// every group to checkpoint what it holds and parks new work; the resume points of trials
// (preempt, pause and periodic checkpoints) are tracked; a new job turns the work the old job's
// groups held into recovery items, which its groups take first (also for retried failures).
#include "mpitune/coord/coordinator_core.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "mpitune/core/error.hpp"
#include "coordinator_detail.hpp"

namespace mpitune {

using namespace coord_detail;

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
    if (g.state == GroupState::Idle && g.trial >= 0 && table_.count(g.trial) && !is_terminal(row_of(g.trial).status))
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

void CoordinatorCore::set_resume_point(TrialId id, const std::string& dir, int64_t step) {
  TrialState& ts = state_of(id);
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
  const bool usable = p.ok && p.trial >= 0 && table_.count(p.trial) && !is_terminal(row_of(p.trial).status);
  if (p.trial >= 0 && table_.count(p.trial)) row_of(p.trial).device_seconds += p.seconds * opts_.group_size;
  if (usable) set_resume_point(p.trial, dir, p.step);
  else if (!dir.empty()) deletions_.push_back(dir);
  (void)now;
  return {};
}

std::vector<Outgoing> CoordinatorCore::on_periodic_checkpoint(int group, const PeriodicCheckpointMsg& p) {
  const GroupInfo& g = groups_[group];
  // Still the state the trial goes on from: the newest place a later job resumes it.
  const bool current = g.state == GroupState::Busy && g.trial == p.trial && table_.count(p.trial) &&
                       !is_terminal(row_of(p.trial).status);
  if (current) set_resume_point(p.trial, p.dir, p.step);
  else deletions_.push_back(p.dir);
  return {};
}

void CoordinatorCore::end_pending_stop(TrialId id, double now) {
  std::optional<std::string>& stopped = state_of(id).stop_order;
  const std::string why = *stopped;
  stopped.reset();
  apply_other_decisions(scheduler_.on_trial_failed(id), now);
  end_trial(id, state_of(id).early_stopping ? TrialStatus::EarlyStopped : TrialStatus::Stopped, why, now);
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
        if (state_of(g.trial).stop_order && g.trial != retrain_trial_) {
          end_pending_stop(g.trial, now);
          break;
        }
        Recovery r;
        r.kind = state_of(g.trial).then;  // a resumed pause/keep write that was cut again
        r.prefer_group = prefer, r.trial = g.trial, r.until = g.until, r.seg = g.seg;
        r.since = g.since, r.since_vtime = g.since_vtime;
        recovery_.push_back(std::move(r));
        break;
      }
      case GroupState::Saving: {
        TrialState& ts = state_of(g.trial);
        TrialRecord& t = row_of(g.trial);
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
  for (auto& [id, e] : table_) e.state.memory_group = -1;
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
  TrialState& ts = state_of(r.trial);
  TrialRecord& t = row_of(r.trial);
  if (r.kind == Recovery::Kind::Start) {
    const TrialState& src = state_of(r.waits_for);
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
                                   state_of(loaded_from).checkpoint_ready &&
                                   state_of(loaded_from).checkpoint == old.checkpoint;
  if (ts.resume_step >= 0 && ts.resume_step <= r.until) {
    seg = segment_for(r.trial, ts.resume_step, r.until, SegmentInit::Resume);
    seg.checkpoint = ts.resume_dir;
    from = "its checkpoint at step " + std::to_string(ts.resume_step);
  } else if (old_checkpoint_kept) {
    seg = old;  // the checkpoint it started from is still there
    seg.hparams = t.hparams;
    from = "the checkpoint its segment started from (step " + std::to_string(old.start) + ")";
  } else if (old.init == SegmentInit::Clone && old.source_trial >= 0 && state_of(old.source_trial).resume_step >= 0) {
    const TrialState& src = state_of(old.source_trial);
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

std::vector<Outgoing> CoordinatorCore::finish_interrupted(double now) {
  for (auto& [id, e] : table_) {
    const TrialRecord& t = e.row;
    if (t.status != TrialStatus::Running && t.status != TrialStatus::Pending) continue;
    // Its /trials row says what the next job will do (the status in the table stays: the replay
    // rebuilds it as it was).
    TrialRecord row = t;
    row.status = TrialStatus::Paused;
    const TrialState& ts = state_of(id);
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

}  // namespace mpitune
