// What a scheduler tells the coordinator. Values, not actions: the scheduler never touches a
// group or another trial; the coordinator carries its decisions out (Ray Tune's TrialScheduler
// seam, made explicit so PBT's clone and Hyperband's pause are plain data).
#pragma once

#include <cstdint>
#include <string>

#include "mpitune/core/hparams.hpp"

namespace mpitune {

using TrialId = int64_t;

enum class Action {
  Continue,  // keep training to `until` (ASHA promotion, next PBT interval)
  Stop,      // end the trial early: it lost at a rung
  Pause,     // end the segment, keep the state; the scheduler resumes it later through next()
  Clone,     // PBT exploit + explore: copy `source`'s state, take `hparams`, train to `until`
  Complete,  // the trial reached its full budget
  // A paused trial takes `hparams` now and, when next() later hands out its Resume, starts from
  // `source`'s state instead of its own (synchronous PBT's clone of a trial no group holds).
  // Only about other trials (scheduler.hpp); /decisions records it as "clone", as it always did.
  Rebase,
};

// "continue", "stop", "pause", "clone", "complete", "rebase" (logs; /decisions' action column
// is written by the coordinator, which names a Rebase "clone").
const char* action_name(Action a);

struct Decision {
  Action action = Action::Continue;
  int64_t until = 0;        // Continue, Clone: the step to run to next (Rebase: the Resume says)
  TrialId source = -1;      // Clone, Rebase: the trial whose state is copied
  HParams hparams;          // Clone, Rebase: the explored hyperparameters of the target
  int bracket = -1;         // for /decisions (-1: not applicable)
  int rung = -1;
  std::string reason;       // one line, shown in /decisions

  static Decision cont(int64_t until, std::string why = "") {
    Decision d;
    d.until = until;
    d.reason = std::move(why);
    return d;
  }
  static Decision make(Action a, std::string why = "") {
    Decision d;
    d.action = a;
    d.reason = std::move(why);
    return d;
  }
};

// What an idle group should do next.
struct Assignment {
  enum class Kind {
    NewTrial,  // ask the searcher for a config and start a trial
    Resume,    // resume paused trial `trial` (its checkpoint) and run it to `until`
    Wait,      // nothing now; ask again after the next event
    Done,      // nothing will come from this scheduler any more
  };
  Kind kind = Kind::NewTrial;
  TrialId trial = -1;   // Resume
  int64_t until = 0;    // Resume
  int bracket = -1;     // NewTrial: the bracket it is for (Hyperband); -1 otherwise
  double budget = 0;    // NewTrial: its first budget in steps (BOHB models per budget)
};

}  // namespace mpitune
