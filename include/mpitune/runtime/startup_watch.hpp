// StartupWatch: the start of a job (each worker builds its trainable: reads the model, prepares
// the data) watched by rank 0, so a rank that stops or dies while starting ends the job within
// experiment.heartbeat_timeout_s instead of leaving rank 0 blocked for ever in the gather of
// the ranks' hosts and devices.
//
// Why not the coordinator's heartbeats: they begin with the Ready message, after the trainable
// exists, and only group leaders send them; a start can take minutes (tokenising a corpus,
// loading a large model) on every rank. So, on MPI_COMM_WORLD with a tag of its own:
//  - each worker rank's thread (comm/heartbeat.hpp) sends a beat every
//    heartbeat_interval_s(timeout) while it starts; then it sends its record (host, device),
//    always last on that tag, so rank 0 has nothing left unreceived;
//  - rank 0 receives beats and records until every rank's record is in, and ends the job
//    (one line naming the rank, its group and host; exit 4) when a rank that has not finished
//    starting was silent for longer than the timeout.
// A beat means "this process runs", not "it gets on": a rank deadlocked while starting beats on
// (a start has no progress marks); a stopped (SIGSTOP) or dead one does not. Without
// MPI_THREAD_MULTIPLE there are no beats and rank 0 waits without a timeout, as a plain gather.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mpitune/comm/topology.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {

class Heartbeat;

class StartupWatch {
 public:
  // A worker starts beating. Every rank's host comes from the topology (GroupComms gathered
  // them), so a rank that never finishes can still be named.
  StartupWatch(const Topology& topo, double heartbeat_timeout_s);
  ~StartupWatch();
  StartupWatch(const StartupWatch&) = delete;
  StartupWatch& operator=(const StartupWatch&) = delete;

  // Worker: stops beating and sends its record; returns {}. Rank 0: waits for every record
  // (or ends the job, above) and returns the groups with their ranks, hosts and devices.
  std::vector<GroupRecord> finish(const std::string& device);

 private:
  std::vector<GroupRecord> collect(const std::string& device);

  const Topology& topo_;
  const double timeout_s_;
  std::vector<std::string> hosts_;  // every rank's host, by world rank
  std::unique_ptr<Heartbeat> beat_;
};

}  // namespace mpitune
