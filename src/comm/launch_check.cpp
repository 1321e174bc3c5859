// A Slurm launch without PMI (header: why it matters).
#include "mpitune/comm/launch_check.hpp"

#include <cstdlib>

namespace mpitune {

std::string pmi_mismatch(int world_size, const char* slurm_ntasks) {
  if (world_size != 1 || !slurm_ntasks || !*slurm_ntasks) return "";
  char* end = nullptr;
  const long tasks = std::strtol(slurm_ntasks, &end, 10);
  if (*end != '\0' || tasks <= 1) return "";
  return "Slurm started " + std::to_string(tasks) +
         " tasks (SLURM_NTASKS) but MPI sees a world of 1 rank: srun did not connect the tasks to MPI; "
         "launch with srun --mpi=pmix (or the PMI your site's MPI uses: srun --mpi=list), or with mpirun "
         "inside the allocation";
}

}  // namespace mpitune
