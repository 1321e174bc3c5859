// How a trial's state reaches the group that trains it next, when it is not already there: from
// a checkpoint (a resume, or a clone of a paused source: now, or once the checkpoint is written),
// rank to rank from the group that trains the source (PBT exploit) or from a group's host cache,
// and what each transfer used (/pbt_transfers).
#include "mpitune/coord/coordinator_core.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "mpitune/core/error.hpp"
#include "coordinator_detail.hpp"

namespace mpitune {

using namespace coord_detail;

std::vector<Outgoing> CoordinatorCore::start_from_checkpoint(int group, TrialId ckpt_of, SegmentMsg seg, double now) {
  const TrialState& src = state_of(ckpt_of);
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
    if (ckpt_of == seg.trial) state_of(ckpt_of).memory_group = -1;  // the copy moves here
    state_of(seg.trial).clone_via = "memory";
    set_busy(group, seg.trial, seg.stop);
    if (holder == group) return {{group, std::move(seg)}};
    return {{holder, SendStateMsg{ckpt_of, group, seg.trial}}, {group, std::move(seg)}};
  }
  if (holder >= 0 && ckpt_of == seg.trial) {  // resumed from its files: the cached copy is stale now
    releases_.push_back({holder, ReleaseStateMsg{ckpt_of}});
    state_of(ckpt_of).memory_group = -1;
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
  TrialRecord& t = row_of(trial);
  const TrialRecord& src = row_of(source);
  t.parent = source;
  const int64_t from_step = src.last_step;
  Decision d = Decision::cont(until, "copy the state of trial " + std::to_string(source) + " at step " +
                                         std::to_string(from_step) + ", then " + t.hparams.to_string());
  record_decision(trial, from_step, "clone", d, now);

  // Once the source's state replaces the target's, the target's own checkpoints are of another
  // lineage: a later job must not resume it from them.
  auto forget_own_state = [&] {
    TrialState& tts = state_of(trial);
    if (!tts.resume_dir.empty() && tts.resume_dir != tts.checkpoint) deletions_.push_back(tts.resume_dir);
    tts.resume_dir.clear();
    tts.resume_step = -1;
  };
  // The source is training on a group: its ranks send their state straight to ours.
  for (size_t h = 0; h < groups_.size(); ++h) {
    const GroupInfo& gh = groups_[h];
    if (gh.state == GroupState::Busy && gh.trial == source) {
      forget_own_state();
      state_of(trial).clone_via = "ranks";
      SegmentMsg seg = segment_for(trial, from_step, until, SegmentInit::Clone);
      seg.source_trial = source;
      seg.source_group = static_cast<int>(h);
      set_busy(group, trial, until);
      return {{static_cast<int>(h), SendStateMsg{source, group, trial}}, {group, std::move(seg)}};
    }
  }
  // The source is paused: load its checkpoint (now, or once it is written).
  const TrialState& ss = state_of(source);
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

std::vector<Outgoing> CoordinatorCore::on_state_received(int group, const StateReceivedMsg& r, double now) {
  if (r.source_trial == r.trial) {  // a paused trial back from a host cache: a resume, not an exploit
    if (r.ok) row_of(r.trial).last_step = r.step;
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
  rec.new_values = row_of(r.trial).hparams;
  if (r.ok) rec.old_values = row_of(r.source_trial).hparams;
  rec.new_hparams = rec.new_values.to_string();
  rec.old_hparams = r.ok ? rec.old_values.to_string() : "";
  rec.payload = opts_.transfer_payload;
  // As ordered (the source may have resumed since), unless the copy fell back to the files.
  rec.via = r.source_group < 0 ? "files" : state_of(r.trial).clone_via;
  if (r.ok) {
    store_.append_transfer(rec);
    row_of(r.trial).last_step = r.step;
  } else {
    row_of(r.trial).parent = -1;
    store_.upsert_trial(row_of(r.trial));
    record_decision(r.trial, r.step, "continue",
                    Decision::make(Action::Continue, "clone failed (" + r.reason + "): explore only"), now);
  }
  return {};
}

}  // namespace mpitune
