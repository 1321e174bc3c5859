// The gpt trainable of a worker rank: its threads, its device and its group's collectives (see
// trainable_factory.hpp). Needs libtorch: linked into mpitune-torch (and the tests), never into
// the torch-free mpitune, whose ranks that train a GPT hand over to mpitune-torch.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/comm/rank_resources.hpp"
#include "mpitune/runtime/trainable_factory.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_trainable.hpp"

namespace mpitune {
namespace {

// Under srun, SLURM_LOCALID is the rank's index on its node; the placement table's local rank
// (from host names) must be the same, or host names do not identify nodes and GPUs may clash.
void warn_if_slurm_disagrees(const Topology& topo) {
  const char* id = std::getenv("SLURM_LOCALID");
  if (!id || !*id || topo.test_hosts) return;
  if (std::atoi(id) != topo.local_rank)
    std::fprintf(stderr,
                 "mpitune: warning: rank %d: SLURM_LOCALID = %s but it is local rank %d of host %s by host names; "
                 "GPUs follow the host names\n",
                 topo.world_rank, id, topo.local_rank, topo.host.c_str());
}

}  // namespace

bool torch_cuda_usable() { return cuda_available(); }

TrainableSetup make_gpt_trainable_setup(const ExperimentConfig& cfg, const Topology& topo, MPI_Comm group) {
  TrainableSetup s;
  // Intra-op threads: the rank's CPU set, or, unbound, the node's cores shared among its
  // worker ranks, so ranks do not fight over cores (the usual cause of slow CPU runs).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int affinity = static_cast<int>(process_cpu_set().size());
  const int threads = cfg.train.threads > 0 ? cfg.train.threads : compute_threads_for(affinity, cores, topo.local_workers);
  set_compute_threads(threads);
  // Device: the rank's index among its host's worker ranks (rank 0 takes none) modulo the
  // visible GPUs (comm/rank_resources.hpp). The group's Collectives, built once for the
  // job: NCCL for CUDA tensors unless [train] collectives = mpi (then CUDA tensors are staged
  // through host memory, which lets several ranks of a group share one GPU), MPI on the CPU.
  // Every group, G = 1 included, trains the ZeRO-3 model (for G = 1 it gathers from itself).
  const bool cuda = resolve_device(cfg.train.device) == "cuda";
  int device = 0;
  std::shared_ptr<Collectives> collectives;
  if (cuda) {
    const GpuChoice gpu = choose_gpu(topo.local_worker_rank, std::max(1, cuda_device_count()),
                                     std::getenv("CUDA_VISIBLE_DEVICES"));
    warn_if_slurm_disagrees(topo);
    device = gpu.ordinal;
    select_cuda_device(device);
    s.device = gpu.label;
    if (cfg.train.collectives == "mpi")
      collectives = make_mpi_collectives(group, /*device_buffers=*/true);
    else
      collectives = make_nccl_collectives(group, device);
  } else {
    s.device = "cpu";
    collectives = make_mpi_collectives(group);
  }
  s.trainable = make_gpt_trainable(cfg, std::move(collectives), device);
  return s;
}

}  // namespace mpitune
