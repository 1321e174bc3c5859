#include "mpitune/coord/event_order.hpp"

#include <algorithm>

#include "mpitune/core/error.hpp"

namespace mpitune {

DeterministicOrder::DeterministicOrder(int num_groups, int64_t start_vtime) : groups_(static_cast<size_t>(num_groups)) {
  // Until its Ready arrives a group counts as busy from the start: Ready is its first message.
  for (auto& g : groups_) {
    g.busy = true;
    g.base = g.lower_bound = start_vtime;
  }
}

void DeterministicOrder::on_resumed_segment(int group, int64_t base, int64_t start_step) {
  GroupClock& c = groups_.at(group);
  c.busy = true;
  c.saving = false;
  c.base = base;
  c.start_step = start_step;
  c.lower_bound = std::max(c.lower_bound, base + 1);
}

int64_t DeterministicOrder::vtime_of(const GroupClock& c, const Message& m) const {
  auto at_step = [&](int64_t step) { return c.base + (step - c.start_step); };
  if (auto* r = std::get_if<ReportMsg>(&m)) return at_step(r->step);
  if (auto* d = std::get_if<SegmentDoneMsg>(&m)) return at_step(d->step);
  if (auto* f = std::get_if<TrialFailedMsg>(&m)) return c.saving ? c.base : at_step(f->step);
  if (auto* p = std::get_if<PeriodicCheckpointMsg>(&m)) return at_step(p->step);
  return c.base;  // Ready, CheckpointDone, FinalEvalDone: no steps since the order
}

void DeterministicOrder::push(int group, Message m) {
  GroupClock& c = groups_.at(group);
  const int64_t t = vtime_of(c, m);
  const bool ends_segment =
      std::holds_alternative<SegmentDoneMsg>(m) || std::holds_alternative<TrialFailedMsg>(m) ||
      std::holds_alternative<ReadyMsg>(m) || std::holds_alternative<CheckpointDoneMsg>(m) ||
      std::holds_alternative<FinalEvalDoneMsg>(m);
  c.queue.push_back(Event{group, t, std::move(m)});
  c.lower_bound = t;
  // After its segment ends a group sends nothing until it gets an order.
  if (ends_segment) c.busy = false;
}

void DeterministicOrder::on_order(int group, const Message& order, int64_t vtime) {
  GroupClock& c = groups_.at(group);
  if (auto* seg = std::get_if<SegmentMsg>(&order)) {
    c.busy = true;
    c.saving = false;
    c.base = vtime;
    c.start_step = seg->start;
    c.lower_bound = vtime + 1;  // its first message comes after at least one step
  } else if (std::holds_alternative<CheckpointMsg>(order) || std::holds_alternative<FinalEvalMsg>(order)) {
    // Writing a checkpoint (or the final evaluation) takes no virtual time: its answer comes at
    // the order's time.
    c.busy = true;
    c.saving = true;
    c.base = vtime;
    c.lower_bound = vtime;
  }
}

std::optional<DeterministicOrder::Event> DeterministicOrder::pop() {
  int best = -1;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const auto& q = groups_[g].queue;
    if (!q.empty() && (best < 0 || q.front().vtime < groups_[best].queue.front().vtime))
      best = static_cast<int>(g);
  }
  if (best < 0) return std::nullopt;
  const int64_t t = groups_[best].queue.front().vtime;
  for (size_t h = 0; h < groups_.size(); ++h) {
    const GroupClock& c = groups_[h];
    if (static_cast<int>(h) == best || !c.queue.empty() || !c.busy) continue;
    // A busy group with nothing queued could still send something at lower_bound or later.
    if (c.lower_bound < t || (c.lower_bound == t && static_cast<int>(h) < best)) return std::nullopt;
  }
  Event e = std::move(groups_[best].queue.front());
  groups_[best].queue.pop_front();
  return e;
}

}  // namespace mpitune
