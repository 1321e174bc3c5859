// Names of scheduler actions, as they appear in /decisions and logs.
#include "mpitune/sched/decision.hpp"

namespace mpitune {

const char* action_name(Action a) {
  switch (a) {
    case Action::Continue: return "continue";
    case Action::Stop: return "stop";
    case Action::Pause: return "pause";
    case Action::Clone: return "clone";
    case Action::Complete: return "complete";
    case Action::Rebase: return "rebase";
  }
  return "?";
}

}  // namespace mpitune
