#include "mpitune/coord/replay.hpp"

#include <string>

#include "mpitune/core/error.hpp"
#include "mpitune/core/protocol.hpp"

namespace mpitune {

void replay_events(CoordinatorCore& core, const std::vector<EventRecord>& events,
                   const std::function<void(const EventRecord&, const std::vector<Outgoing>&)>& seen) {
  for (const EventRecord& e : events) {
    const int64_t expected = core.events_logged();
    if (e.seq != expected)
      throw InfraError("/events: event " + std::to_string(e.seq) + " where " + std::to_string(expected) +
                       " was expected: the event log has a gap and cannot be replayed");
    const std::string text(e.data.begin(), e.data.end());
    std::vector<Outgoing> outs;
    if (e.kind == "message") {
      outs = core.handle(e.group, decode(e.data), e.time, e.vtime);
    } else if (e.kind == "budget") {
      outs = core.spend_budget(e.time);
    } else if (e.kind == "preempt") {
      outs = core.request_preempt(e.time, text);
    } else if (e.kind == "job") {
      int groups = 0;
      try {
        groups = std::stoi(text);
      } catch (const std::exception&) {
        throw InfraError("/events: event " + std::to_string(e.seq) + ": a job event with '" + text + "' groups");
      }
      outs = core.begin_job(e.time, groups);
    } else {
      throw InfraError("/events: event " + std::to_string(e.seq) + " of unknown kind '" + e.kind + "'");
    }
    if (core.events_logged() != e.seq + 1)
      throw InfraError("/events: replaying event " + std::to_string(e.seq) + " (" + e.kind +
                       ") did not give the same state as when it was logged; was the experiment resumed with "
                       "another config or another mpitune version?");
    if (seen) seen(e, outs);
  }
}

}  // namespace mpitune
