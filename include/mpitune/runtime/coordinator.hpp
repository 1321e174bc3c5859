// The coordinator's MPI shell: feeds leaders' messages and clock ticks into CoordinatorCore,
// sends its orders, writes the result file, prints the live status and the final table.
// It waits by polling with back-off so it never keeps a core busy.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "mpitune/comm/channel.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct CoordinatorRun {
  const ExperimentConfig& cfg;
  const Topology& topo;
  Channel& channel;
  ResultStore& store;
  ExperimentInfo info;
  std::vector<GroupRecord> groups;
  bool quiet = false;
  // The parameters (total, trainable) of a trial's model (unset for synthetic objectives).
  std::function<std::pair<int64_t, int64_t>(const HParams&)> param_counts;
  std::set<int64_t> kept;  // out: the trials whose final weights are kept
  // A resumed experiment: what its file held when this job began (its /events are replayed);
  // nullptr for a new one. The store then appends to that file.
  const ExperimentData* resume = nullptr;
  bool verbose = false;  // the live status has a line per busy group
};

// Runs the experiment; returns "finished" (it ended), "interrupted" (a signal: every running
// trial was checkpointed; resumable) or "aborted" (a group stopped answering: heartbeat timeout;
// resumable from the file, the caller ends the job).
std::string run_coordinator(CoordinatorRun& run);

// Set from signal handlers (SIGTERM, SIGINT, SIGUSR1: Slurm's time limit warning).
void install_stop_signal_handlers();
// The signal received last (0: none) and how many have come.
int stop_signal_number();
int stop_signal_count();

}  // namespace mpitune
