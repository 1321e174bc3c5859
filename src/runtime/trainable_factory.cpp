#include "mpitune/runtime/trainable_factory.hpp"

#include <algorithm>
#include <thread>

#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/fault_injection.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "mpitune/train/gpt_trainable.hpp"

namespace mpitune {

void validate_trainable_config(const ExperimentConfig& cfg, bool progress) {
  if (cfg.experiment.trainable == "synthetic") return validate_synthetic(cfg);
  validate_gpt_config(cfg, progress);
}

TrainableSetup make_trainable(const ExperimentConfig& cfg, const Topology& topo, MPI_Comm group) {
  TrainableSetup s;
  if (cfg.experiment.trainable == "synthetic") {
    s.trainable = make_synthetic_trainable(cfg);
    s.device = "cpu";
  } else {
    // Intra-op threads: the node's cores shared among the ranks on it, so ranks do not fight
    // over cores (the usual cause of slow CPU runs).
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = cfg.train.threads > 0 ? cfg.train.threads : std::max(1, cores / topo.local_size);
    set_compute_threads(threads);
    // Device: local rank modulo the visible GPUs. The group's Collectives, built once for the
    // job: NCCL for CUDA tensors unless [train] collectives = mpi (then CUDA tensors are staged
    // through host memory, which lets several ranks of a group share one GPU), MPI on the CPU.
    // Every group, G = 1 included, trains the ZeRO-3 model (for G = 1 it gathers from itself).
    const bool cuda = resolve_device(cfg.train.device) == "cuda";
    int device = 0;
    std::shared_ptr<Collectives> collectives;
    if (cuda) {
      device = topo.local_rank % std::max(1, cuda_device_count());
      select_cuda_device(device);
      s.device = "cuda:" + std::to_string(device);
      if (cfg.train.collectives == "mpi")
        collectives = make_mpi_collectives(group, /*device_buffers=*/true);
      else
        collectives = make_nccl_collectives(group, device);
    } else {
      s.device = "cpu";
      collectives = make_mpi_collectives(group);
    }
    s.trainable = make_gpt_trainable(cfg, std::move(collectives), device);
  }
  s.trainable = with_fault_injection(std::move(s.trainable), cfg.faults, topo.group_rank);
  return s;
}

}  // namespace mpitune
