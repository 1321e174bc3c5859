// A worker rank's CPUs, threads and GPU (header: the rules and why).
#include "mpitune/comm/rank_resources.hpp"

#include <sched.h>

#include <algorithm>
#include <sstream>

#include "mpitune/core/error.hpp"

namespace mpitune {

std::string format_cpu_set(std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::vector<int> process_cpu_set() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

int compute_threads_for(int affinity, int node_cores, int local_workers) {
  node_cores = std::max(1, node_cores);
  if (affinity <= 0) affinity = node_cores;  // unknown: as if unbound
  if (affinity < node_cores) return affinity;  // bound: these CPUs are the rank's own
  return std::max(1, node_cores / std::max(1, local_workers));
}

GpuChoice choose_gpu(int local_worker_rank, int visible_gpus, const char* cuda_visible_devices) {
  MPITUNE_CHECK(visible_gpus >= 1, "choose_gpu needs a visible GPU");
  GpuChoice c;
  c.ordinal = std::max(0, local_worker_rank) % visible_gpus;
  c.label = "cuda:" + std::to_string(c.ordinal);
  if (cuda_visible_devices && *cuda_visible_devices) {
    std::vector<std::string> entries;
    std::stringstream in(cuda_visible_devices);
    for (std::string e; std::getline(in, e, ',');) entries.push_back(e);
    // CUDA shows the entries up to the first invalid one; the count it reports is the truth.
    if (c.ordinal < static_cast<int>(entries.size()) && !entries[c.ordinal].empty())
      c.label = "cuda:" + entries[c.ordinal];
  }
  return c;
}

}  // namespace mpitune
