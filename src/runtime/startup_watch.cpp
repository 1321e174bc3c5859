#include "mpitune/runtime/startup_watch.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "mpitune/comm/backoff.hpp"
#include "mpitune/comm/heartbeat.hpp"
#include "mpitune/comm/mpi_check.hpp"
#include "mpitune/comm/mpi_session.hpp"

namespace mpitune {
namespace {

constexpr int kStartupTag = 7301;  // MPI_COMM_WORLD; no other traffic uses it
constexpr int kField = 128;        // the device: 127 characters kept
// [kind][device]; kind 'B': a beat, 'R': the rank's record (its last message on the tag). The
// hosts are the topology's.
constexpr int kMessageBytes = 1 + kField;

void put_field(char* at, const std::string& text) { std::snprintf(at, kField, "%s", text.c_str()); }
std::string get_field(const char* at) { return std::string(at, strnlen(at, kField)); }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

StartupWatch::StartupWatch(const Topology& topo, double heartbeat_timeout_s)
    : topo_(topo), timeout_s_(heartbeat_timeout_s), hosts_(topo.layout.hosts) {
  const double interval = heartbeat_interval_s(timeout_s_);
  if (!topo.is_coordinator() && interval > 0 && MpiSession::threads_multiple()) {
    // No stall limit: a start has no progress marks (header).
    beat_ = std::make_unique<Heartbeat>(std::chrono::duration<double>(interval), std::chrono::hours(24 * 365), [] {
      char beat[kMessageBytes] = {'B'};
      MPI_CHECK(MPI_Send(beat, kMessageBytes, MPI_CHAR, 0, kStartupTag, MPI_COMM_WORLD));
    });
    beat_->busy();
  }
}

StartupWatch::~StartupWatch() = default;

std::vector<GroupRecord> StartupWatch::finish(const std::string& device) {
  if (topo_.is_coordinator()) return collect(device);
  beat_.reset();  // joined: no beat after the record
  char record[kMessageBytes] = {'R'};
  put_field(record + 1, device);
  MPI_CHECK(MPI_Send(record, kMessageBytes, MPI_CHAR, 0, kStartupTag, MPI_COMM_WORLD));
  return {};
}

std::vector<GroupRecord> StartupWatch::collect(const std::string& device) {
  const int world = topo_.world_size;
  std::vector<std::string> devices(world);
  std::vector<bool> done(world, false);
  devices[0] = device;
  done[0] = true;
  int pending = world - 1;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<double> heard(world, 0.0);  // seconds since t0
  // Beats exist only where MPI_THREAD_MULTIPLE does; the library is the same on every rank.
  const bool watch = timeout_s_ > 0 && heartbeat_interval_s(timeout_s_) > 0 && MpiSession::threads_multiple();
  Backoff backoff(std::chrono::milliseconds(20));
  while (pending > 0) {
    int arrived = 0;
    MPI_Status status;
    MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, kStartupTag, MPI_COMM_WORLD, &arrived, &status));
    if (arrived) {
      char m[kMessageBytes];
      MPI_CHECK(MPI_Recv(m, kMessageBytes, MPI_CHAR, status.MPI_SOURCE, kStartupTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
      const int r = status.MPI_SOURCE;
      heard[r] = seconds_since(t0);
      if (m[0] == 'R' && !done[r]) {
        done[r] = true;
        devices[r] = get_field(m + 1);
        --pending;
      }
      backoff.reset();
      continue;
    }
    if (watch) {
      const double now = seconds_since(t0);
      for (int r = 1; r < world; ++r) {
        if (done[r] || now - heard[r] <= timeout_s_) continue;
        const int group = topo_.group_of_rank(r);
        std::fprintf(stderr,
                     "mpitune: error: rank %d (group %d) on %s sent nothing for %d s while starting (reading the "
                     "model, preparing the data; experiment.heartbeat_timeout_s = %d): the rank died or hangs; "
                     "ending the job (exit 4)\n",
                     r, group, hosts_[r].c_str(), static_cast<int>(now - heard[r]), static_cast<int>(timeout_s_));
        std::fflush(stderr);
        MpiSession::abort_job(4);
      }
    }
    backoff.pause();
  }
  std::vector<GroupRecord> groups;
  for (int g = 0; g < topo_.num_groups; ++g) {
    GroupRecord rec;
    rec.group = g;
    for (int r = 0; r < topo_.group_size; ++r) {
      const int w = topo_.world_rank_of(g, r);
      const std::string sep = r ? "," : "";
      rec.ranks += sep + std::to_string(w);
      rec.hosts += sep + hosts_[w];
      rec.devices += sep + devices[w];
    }
    groups.push_back(rec);
  }
  return groups;
}

}  // namespace mpitune
