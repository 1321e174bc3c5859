// Topology of an mpitune job: rank 0 coordinates; ranks 1..K*G form K trial groups of G ranks
// (group g = world ranks 1+g*G .. G+g*G, its leader is the first). The arithmetic is pure
// (tested without MPI); GroupComms builds the communicators once for the life of the job.
#pragma once

#include <mpi.h>

#include <string>

namespace mpitune {

struct Topology {
  int world_rank = 0;
  int world_size = 1;
  int group_size = 1;
  int num_groups = 0;
  int group = -1;       // -1 on the coordinator
  int group_rank = -1;  // rank inside the group; -1 on the coordinator
  int local_rank = 0;   // rank among the ranks on this node (MPI_COMM_TYPE_SHARED)
  int local_size = 1;
  std::string host;

  bool is_coordinator() const { return world_rank == 0; }
  bool is_leader() const { return group_rank == 0; }
  int leader_of(int g) const { return 1 + g * group_size; }
  int world_rank_of(int g, int r) const { return 1 + g * group_size + r; }
};

// Throws ConfigError("experiment.group_size", ...) unless world_size = 1 + K*G with K >= 1.
void check_world_size(int world_size, int group_size);

// The pure part: which group and group rank a world rank has.
Topology make_topology(int world_rank, int world_size, int group_size);

// The communicators: the group's (all ranks of a group; MPI_COMM_NULL on rank 0), the node's
// (for local rank and device choice), and a duplicate of the world for control messages, so
// control traffic never matches another library's messages.
class GroupComms {
 public:
  GroupComms(MPI_Comm world, int group_size);
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
  MPI_Comm node_ = MPI_COMM_NULL;
  MPI_Comm control_ = MPI_COMM_NULL;
  MPI_Comm transfer_ = MPI_COMM_NULL;
};

}  // namespace mpitune
