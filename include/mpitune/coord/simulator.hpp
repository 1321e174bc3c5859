// Simulator: runs the coordinator logic against K virtual groups in virtual time, in one
// process, with no MPI. The groups train real Trainables (normally the synthetic objectives)
// step by step; a step costs `step_seconds(trial, step)` of virtual time. The coordinator
// sees exactly the messages it would see under MPI (Ready, Report, SegmentDone, TrialFailed),
// so schedulers can be compared over many seeds in seconds (e.g. BOHB vs Hyperband vs ASHA on
// multi-fidelity Hartmann-6 at equal budget).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "mpitune/coord/coordinator_core.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

struct SimulationSetup {
  const ExperimentConfig* cfg = nullptr;
  int num_groups = 4;
  std::function<std::unique_ptr<Trainable>()> make_trainable;  // one per virtual group
  // Virtual seconds one step to `step` (1-based) costs; default 1.
  std::function<double(TrialId, int64_t)> step_seconds;
  // experiment.keep for the simulation (best | all | none): kept trials' checkpoints go to a
  // folder of the simulation's scratch space, listed in the result.
  std::string keep;  // "": what the config says (coordinator_options)
  // Interruption and resume (coordinator_core.hpp, "Resume"):
  std::string checkpoint_root;        // checkpoints and kept weights; "": a scratch folder removed at the end
  int64_t crash_after_events = -1;    // end abruptly, as a kill -9, once this many events are logged
  const ExperimentData* resume = nullptr;  // continue this crashed simulation: its events are replayed
};

struct SimulationResult {
  ExperimentData data;  // everything the coordinator wrote
  double elapsed = 0;   // virtual seconds
  int64_t steps = 0;    // total steps trained over all groups
  std::set<TrialId> kept;                // what the coordinator says it keeps at the end
  std::set<std::string> kept_folders;    // the folders really in the keep root at the end
  bool crashed = false;                  // ended by crash_after_events
};

SimulationResult simulate(const SimulationSetup& setup);

}  // namespace mpitune
