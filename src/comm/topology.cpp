#include "mpitune/comm/topology.hpp"

#include <algorithm>

#include "mpitune/comm/mpi_check.hpp"

namespace mpitune {

void check_world_size(int world_size, int group_size) {
  if (group_size < 1)
    throw ConfigError("experiment.group_size", "must be at least 1", "set group_size = 1 or more");
  const int workers = world_size - 1;
  if (workers < group_size || workers % group_size != 0) {
    const int k = std::max(1, workers / group_size);
    throw ConfigError("experiment.group_size",
                      "the job has " + std::to_string(world_size) + " ranks, but it needs 1 + K x " +
                          std::to_string(group_size) + " (one coordinator and K groups of " +
                          std::to_string(group_size) + ")",
                      "run with mpirun -np " + std::to_string(1 + k * group_size) + " (K=" +
                          std::to_string(k) + ") or -np " + std::to_string(1 + (k + 1) * group_size) +
                          ", or change group_size");
  }
}

Topology make_topology(int world_rank, int world_size, int group_size) {
  check_world_size(world_size, group_size);
  Topology t;
  t.world_rank = world_rank;
  t.world_size = world_size;
  t.group_size = group_size;
  t.num_groups = (world_size - 1) / group_size;
  if (world_rank > 0) {
    t.group = (world_rank - 1) / group_size;
    t.group_rank = (world_rank - 1) % group_size;
  }
  return t;
}

GroupComms::GroupComms(MPI_Comm world, int group_size) : world_(world) {
  int rank = 0, size = 1;
  MPI_CHECK(MPI_Comm_rank(world, &rank));
  MPI_CHECK(MPI_Comm_size(world, &size));
  topo_ = make_topology(rank, size, group_size);

  // Groups: color = group id; rank 0 takes no group (MPI_UNDEFINED gives MPI_COMM_NULL).
  const int color = topo_.is_coordinator() ? MPI_UNDEFINED : topo_.group;
  MPI_CHECK(MPI_Comm_split(world, color, rank, &group_));
  if (group_ != MPI_COMM_NULL) MPI_CHECK(MPI_Comm_set_errhandler(group_, MPI_ERRORS_RETURN));

  MPI_CHECK(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node_));
  MPI_CHECK(MPI_Comm_rank(node_, &topo_.local_rank));
  MPI_CHECK(MPI_Comm_size(node_, &topo_.local_size));

  MPI_CHECK(MPI_Comm_dup(world, &control_));
  MPI_CHECK(MPI_Comm_set_errhandler(control_, MPI_ERRORS_RETURN));
  MPI_CHECK(MPI_Comm_dup(world, &transfer_));
  MPI_CHECK(MPI_Comm_set_errhandler(transfer_, MPI_ERRORS_RETURN));

  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_CHECK(MPI_Get_processor_name(name, &len));
  topo_.host.assign(name, len);
}

GroupComms::~GroupComms() {
  // Best effort: freeing communicators after MPI_Finalize would be an error, so check first.
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (group_ != MPI_COMM_NULL) MPI_Comm_free(&group_);
  if (node_ != MPI_COMM_NULL) MPI_Comm_free(&node_);
  if (control_ != MPI_COMM_NULL) MPI_Comm_free(&control_);
  if (transfer_ != MPI_COMM_NULL) MPI_Comm_free(&transfer_);
}

}  // namespace mpitune
