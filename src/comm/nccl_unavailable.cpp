// CPU builds: the NCCL factory says why it cannot be used (CUDA builds define it in
// src/comm/nccl/nccl_collectives.cpp).
#ifndef MPITUNE_CUDA

#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {

bool nccl_built() { return false; }

std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm, int) {
  throw ConfigError("train.collectives", "this build of mpitune has no NCCL backend (no CUDA libtorch was found)",
                    "use collectives = mpi or auto, or build mpitune against a CUDA libtorch with NCCL");
}

}  // namespace mpitune

#endif
