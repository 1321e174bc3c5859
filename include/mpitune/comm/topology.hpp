// Topology of an mpitune job: rank 0 coordinates; the other ranks form K trial groups of G ranks,
// laid out by host (group_layout.hpp: a group shares a node unless its node's leftover ranks
// cannot form one, or experiment.groups_span_nodes = true). On one host group g is world ranks
// 1+g*G .. G+g*G, as before. Everything that maps a rank to a group or back asks the layout
// (leader_of, world_rank_of, group_of_rank), never rank arithmetic. GroupComms gathers the hosts
// once and builds the communicators for the life of the job.
#pragma once

#include <mpi.h>

#include <string>
#include <vector>

#include "mpitune/comm/group_layout.hpp"

namespace mpitune {

struct Topology {
  int world_rank = 0;
  int world_size = 1;
  int group_size = 1;
  int num_groups = 0;
  int group = -1;       // -1 on the coordinator
  int group_rank = -1;  // rank inside the group; -1 on the coordinator
  int local_rank = 0;   // rank among the ranks on this host (rank 0 counted)
  int local_size = 1;
  int local_worker_rank = -1;  // rank among the worker ranks on this host (what picks the GPU)
  int local_workers = 0;
  std::string host;
  GroupLayout layout;  // every rank's group, host and local rank
  bool test_hosts = false;  // the hosts came from MPITUNE_TEST_HOSTNAME_OF_RANK
  std::vector<std::string> cpus_of_rank;  // [world rank] -> its CPU set ("0-3,8"); GroupComms fills it

  bool is_coordinator() const { return world_rank == 0; }
  bool is_leader() const { return group_rank == 0; }
  int leader_of(int g) const { return layout.leader_of(g); }
  int world_rank_of(int g, int r) const { return layout.world_rank_of(g, r); }
  int group_of_rank(int world) const { return layout.group_of.at(world); }  // -1 for rank 0
};

// The pure part: one rank's view of a layout.
Topology make_topology(int world_rank, const GroupLayout& layout);
// All ranks on one host (tests, tools): the consecutive layout.
Topology make_topology(int world_rank, int world_size, int group_size);

// Test only: entry `world_rank` of MPITUNE_TEST_HOSTNAME_OF_RANK ("host-a,host-a,host-b,...",
// one name per world rank), so that a test on one machine can give ranks different hosts; ""
// when it is unset. The one place that reads it. Throws InfraError when it is set but has no
// non-empty entry for every one of the `world_size` ranks.
std::string test_host_name_of_rank(int world_rank, int world_size);

// The communicators: the group's (all ranks of a group; MPI_COMM_NULL on rank 0) and duplicates
// of the world for control messages and PBT transfers, so that traffic never matches another
// library's messages.
class GroupComms {
 public:
  // Collective over `world`: gathers every rank's host (rank_host_name) to lay out the groups.
  GroupComms(MPI_Comm world, int group_size, bool span_nodes = false);
  ~GroupComms();
  GroupComms(const GroupComms&) = delete;
  GroupComms& operator=(const GroupComms&) = delete;

  const Topology& topology() const { return topo_; }
  MPI_Comm group() const { return group_; }
  MPI_Comm control() const { return control_; }
  MPI_Comm transfer() const { return transfer_; }  // PBT state transfers between groups
  MPI_Comm world() const { return world_; }

 private:
  Topology topo_;
  MPI_Comm world_;
  MPI_Comm group_ = MPI_COMM_NULL;
  MPI_Comm control_ = MPI_COMM_NULL;
  MPI_Comm transfer_ = MPI_COMM_NULL;
};

}  // namespace mpitune
