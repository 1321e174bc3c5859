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
#include "mpitune/coord/cost_model.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

struct SimulationSetup {
  const ExperimentConfig* cfg = nullptr;
  int num_groups = 4;
  std::function<std::unique_ptr<Trainable>()> make_trainable;  // one per virtual group
  // Virtual seconds one step to `step` (1-based) costs; default 1.
  std::function<double(TrialId, int64_t)> step_seconds;
  // `mpitune simulate`'s cost model ([simulate]); when set it replaces step_seconds, and adds
  // seeded segment failures and checkpoint / transfer seconds. Not owned.
  const CostModel* cost_model = nullptr;
  // Where the coordinator writes (the HDF5 store of `mpitune simulate`); null: memory, returned
  // in SimulationResult::data. With a store, begin() gets one /groups row per simulated group,
  // one /segments row is written (the simulated job), data stays empty, and close() is the
  // caller's. Not with `resume`.
  ResultStore* store = nullptr;
  // The virtual clock's origin (seconds since the epoch, as the file's times are); 0: from 0.
  double start_time = 0;
  // Fills what only the caller knows into the file's root attributes (command line, config text).
  std::function<void(ExperimentInfo&)> describe;
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
  // Where the groups' virtual time went: training steps (what utilisation counts as busy), and
  // checkpoint writes and reads plus state transfers (cost_model only).
  double busy_seconds = 0;
  double io_seconds = 0;
  int64_t events = 0;              // inputs the coordinator handled
  int64_t decisions = 0;           // rows it wrote to /decisions
  int64_t injected_failures = 0;   // segments failed by cost_model's failure_probability
};

SimulationResult simulate(const SimulationSetup& setup);

// What `mpitune simulate` prints: utilisation = busy group-seconds / (groups x elapsed), the
// ideal time = busy group-seconds / groups (every group busy all the time, no coordination, no
// I/O), and the overhead = elapsed / ideal - 1 (0 when ideal is 0).
struct SimulationFigures {
  double utilisation = 0;
  double ideal_s = 0;
  double overhead = 0;
};
SimulationFigures simulation_figures(const SimulationResult& r, int num_groups);

}  // namespace mpitune
