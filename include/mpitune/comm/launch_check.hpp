// Launch mistakes that leave every rank alone in an MPI world of one. The usual one on Slurm:
// srun started N tasks, but without the PMI plugin this MPI was built for (--mpi=pmix, or the
// site's default), so each task ran MPI_Init as a singleton and thinks it is rank 0 of 1: a
// job of N coordinators that would all write the same file. Pure, so it is unit-tested.
#pragma once

#include <string>

namespace mpitune {

// The error line (without the "mpitune: error: " prefix) when SLURM_NTASKS > 1 but the MPI world
// has one rank; "" when the launch is consistent. slurm_ntasks: the variable's value or nullptr.
std::string pmi_mismatch(int world_size, const char* slurm_ntasks);

}  // namespace mpitune
