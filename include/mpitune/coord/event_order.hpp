// DeterministicOrder: makes an asynchronous experiment's decisions depend on the seed only,
// not on which group happens to report first ([experiment] deterministic = true).
//
// Asynchronous schedulers (ASHA, PBT) judge a trial against the results that came before it,
// so with several groups the outcome depends on timing. This orders the leaders' messages by a
// virtual clock instead: one tick per training step, the clock of group g starting at the
// virtual time of the event that gave it its segment. A message is released only when no busy
// group can still send an earlier one (conservative discrete-event ordering, as in
// Chandy-Misra; ties go to the lower group). The result is exactly the order the in-process
// simulator produces with one virtual second per step (checkpoints take none), whatever the
// real timing. PBT's clones are not covered (a source serves a copy at whichever step it has
// reached), so the config rejects deterministic PBT. The price:
// a group may idle while the coordinator waits for a slower group to pass the same virtual time.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "mpitune/core/protocol.hpp"

namespace mpitune {

class DeterministicOrder {
 public:
  // `start_vtime`: the virtual time the groups start at (a resumed job: the last event's).
  explicit DeterministicOrder(int num_groups, int64_t start_vtime = 0);

  // A message arrived from `group` (in its send order).
  void push(int group, Message m);
  // An order was sent to `group` while handling an event at virtual time `vtime`.
  void on_order(int group, const Message& order, int64_t vtime);
  // A resumed trial's segment was sent to `group`: its steps run on the old segment's clock,
  // which began at `base` with the trial at `start_step` (CoordinatorCore::ResumedClock).
  void on_resumed_segment(int group, int64_t base, int64_t start_step);
  // Messages of `group` received but not yet released.
  bool has_queued(int group) const { return !groups_.at(group).queue.empty(); }
  // The next message that is safe to handle, with its group and virtual time; nullopt while
  // an earlier message may still come from a busy group.
  struct Event {
    int group;
    int64_t vtime;
    Message message;
  };
  std::optional<Event> pop();

 private:
  struct GroupClock {
    bool busy = false;        // has a segment (or checkpoint) whose end has not been received
    bool saving = false;      // the order out is a Checkpoint
    int64_t base = 0;         // virtual time when its segment started
    int64_t start_step = 0;   // the trial's step then
    int64_t lower_bound = 0;  // no future message of this group is earlier than this
    std::deque<Event> queue;
  };
  int64_t vtime_of(const GroupClock& c, const Message& m) const;

  std::vector<GroupClock> groups_;
};

}  // namespace mpitune
