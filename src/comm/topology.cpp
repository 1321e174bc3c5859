// The job's topology: the rank-to-group layout from every rank's host, and the communicators.
#include "mpitune/comm/topology.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "mpitune/comm/mpi_check.hpp"
#include "mpitune/comm/rank_resources.hpp"

namespace mpitune {

Topology make_topology(int world_rank, const GroupLayout& layout) {
  MPITUNE_CHECK(world_rank >= 0 && world_rank < layout.world_size(), "world rank outside the layout");
  Topology t;
  t.world_rank = world_rank;
  t.world_size = layout.world_size();
  t.group_size = layout.group_size;
  t.num_groups = layout.num_groups();
  t.group = layout.group_of[world_rank];
  t.group_rank = layout.rank_in_group[world_rank];
  t.local_rank = layout.local_rank[world_rank];
  t.local_size = layout.local_size[world_rank];
  t.local_worker_rank = layout.local_worker_rank[world_rank];
  t.local_workers = layout.local_workers[world_rank];
  t.host = layout.hosts[world_rank];
  t.layout = layout;
  return t;
}

Topology make_topology(int world_rank, int world_size, int group_size) {
  check_world_size(world_size, group_size);
  return make_topology(world_rank, make_group_layout(std::vector<std::string>(world_size, "localhost"), group_size));
}

std::string test_host_name_of_rank(int world_rank, int world_size) {
  const char* list = std::getenv("MPITUNE_TEST_HOSTNAME_OF_RANK");
  if (!list || !*list) return "";
  std::vector<std::string> names;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) names.push_back(name);
  MPITUNE_CHECK(static_cast<int>(names.size()) == world_size &&
                    std::none_of(names.begin(), names.end(), [](const std::string& n) { return n.empty(); }),
                "MPITUNE_TEST_HOSTNAME_OF_RANK (a test-only override) must name one host per rank: it names " +
                    std::to_string(names.size()) + " for " + std::to_string(world_size) + " ranks");
  return names[world_rank];
}

GroupComms::GroupComms(MPI_Comm world, int group_size, bool span_nodes) : world_(world) {
  int rank = 0, size = 1;
  MPI_CHECK(MPI_Comm_rank(world, &rank));
  MPI_CHECK(MPI_Comm_size(world, &size));
  check_world_size(size, group_size);  // the same answer on every rank, before any collective

  // Every rank's host, gathered once: the layout (and each rank's local rank) follows from it.
  std::string host = test_host_name_of_rank(rank, size);
  const bool test_hosts = !host.empty();
  if (!test_hosts) {
    char name[MPI_MAX_PROCESSOR_NAME];
    int len = 0;
    MPI_CHECK(MPI_Get_processor_name(name, &len));
    host.assign(name, len);
  }
  // With it, each rank's CPU set, for /groups (the binding is fixed before main runs).
  constexpr int kField = MPI_MAX_PROCESSOR_NAME;  // host, then CPU set; each cut to kField - 1
  auto put = [](std::vector<char>& at, size_t offset, const std::string& text) {
    std::copy_n(text.begin(), std::min<size_t>(text.size(), kField - 1), at.begin() + offset);
  };
  std::vector<char> mine(2 * kField, '\0'), all(size_t(2 * kField) * size);
  put(mine, 0, host);
  put(mine, kField, format_cpu_set(process_cpu_set()));
  MPI_CHECK(MPI_Allgather(mine.data(), 2 * kField, MPI_CHAR, all.data(), 2 * kField, MPI_CHAR, world));
  std::vector<std::string> hosts, cpus;
  for (int r = 0; r < size; ++r) {
    const char* at = &all[size_t(2 * kField) * r];
    hosts.emplace_back(at);
    cpus.emplace_back(at + kField);
  }
  topo_ = make_topology(rank, make_group_layout(hosts, group_size, span_nodes));
  topo_.test_hosts = test_hosts;
  topo_.cpus_of_rank = std::move(cpus);

  // Groups: color = group id; rank 0 takes no group (MPI_UNDEFINED gives MPI_COMM_NULL); the
  // key orders a group's ranks as the layout does (world-rank order).
  const int color = topo_.is_coordinator() ? MPI_UNDEFINED : topo_.group;
  MPI_CHECK(MPI_Comm_split(world, color, topo_.is_coordinator() ? 0 : topo_.group_rank, &group_));
  if (group_ != MPI_COMM_NULL) MPI_CHECK(MPI_Comm_set_errhandler(group_, MPI_ERRORS_RETURN));

  MPI_CHECK(MPI_Comm_dup(world, &control_));
  MPI_CHECK(MPI_Comm_set_errhandler(control_, MPI_ERRORS_RETURN));
  MPI_CHECK(MPI_Comm_dup(world, &transfer_));
  MPI_CHECK(MPI_Comm_set_errhandler(transfer_, MPI_ERRORS_RETURN));
}

GroupComms::~GroupComms() {
  // Best effort: freeing communicators after MPI_Finalize would be an error, so check first.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (group_ != MPI_COMM_NULL) MPI_Comm_free(&group_);
  if (control_ != MPI_COMM_NULL) MPI_Comm_free(&control_);
  if (transfer_ != MPI_COMM_NULL) MPI_Comm_free(&transfer_);
}

}  // namespace mpitune
