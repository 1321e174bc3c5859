// What one worker rank may use on its node: the CPUs it is bound to, how many compute threads
// that allows, and which GPU it takes. Pure functions (the queries of the process are separate),
// so the rules are unit-tested without MPI, CUDA or a scheduler.
//
// Threads: the rank's affinity set (sched_getaffinity: what mpirun --bind-to, srun
// --cpus-per-task or taskset gave it), not the node's cores; a rank that is bound to nothing
// (its set is the whole node, as with --bind-to none) shares the node's cores with the other
// worker ranks there (the coordinator is not counted: it sleeps).
// GPU: the rank's index among the worker ranks of its host (the placement table, so rank 0
// takes no GPU) modulo the GPUs visible to it; CUDA ordinals count only what
// CUDA_VISIBLE_DEVICES shows, so /groups records the visible list's entry (the physical GPU,
// "cuda:2", or its UUID) rather than the ordinal, which is 0 for every rank under
// srun --gpus-per-task=1.
#pragma once

#include <string>
#include <vector>

namespace mpitune {

// "0-3,8" for {0,1,2,3,8}; "" for none. Sorted, duplicates dropped.
std::string format_cpu_set(std::vector<int> cpus);

// The CPUs this process may run on (sched_getaffinity); empty where the call fails.
std::vector<int> process_cpu_set();

// Threads for a rank with `affinity` CPUs on a node of `node_cores`, shared by `local_workers`.
int compute_threads_for(int affinity, int node_cores, int local_workers);

struct GpuChoice {
  int ordinal = 0;    // the CUDA device index to select
  std::string label;  // what /groups records: "cuda:<entry of CUDA_VISIBLE_DEVICES>" or "cuda:<ordinal>"
};
// cuda_visible_devices: the variable's value, or nullptr when unset.
GpuChoice choose_gpu(int local_worker_rank, int visible_gpus, const char* cuda_visible_devices);

}  // namespace mpitune
