// The factories of the real Collectives backends, which need a group's MPI communicator.
//
// make_mpi_collectives: MPI collectives on a duplicate of `group` (so data-plane messages never
// match the group's control messages). Host buffers go straight to MPI. With device_buffers
// (CUDA builds) each call asks CUDA where its pointers live and stages device buffers through
// host memory (the stream set with set_stream is synchronised first): how two ranks of one group
// share a single GPU. Without it no CUDA call is made (a CPU run never touches the GPU).
//
// make_nccl_collectives (CUDA builds): one NCCL communicator for the group, created once from a
// unique id that group rank 0 broadcasts over `group`, on CUDA device `device`; collectives run
// on a side stream ordered by events against the compute stream. Before NCCL is called the ranks
// exchange (host, GPU PCI bus id) over MPI, and two ranks on one GPU is a ConfigError naming them
// and the fix (NCCL refuses it with a bare "invalid usage"). Host buffers (a loss, a checksum) go
// through MPI on the same group. In a CPU build it throws ConfigError("train.collectives").
#pragma once

#include <mpi.h>

#include <memory>

#include "mpitune/comm/collectives.hpp"

namespace mpitune {

std::unique_ptr<Collectives> make_mpi_collectives(MPI_Comm group, bool device_buffers = false);

// Whether this build has the NCCL backend.
bool nccl_built();
std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm group, int device);

}  // namespace mpitune
