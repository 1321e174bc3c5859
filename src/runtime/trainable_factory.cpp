#include "mpitune/runtime/trainable_factory.hpp"

#include <algorithm>
#include <thread>

#include "mpitune/core/error.hpp"
#include "mpitune/core/fault_injection.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "mpitune/train/gpt_trainable.hpp"

namespace mpitune {

void validate_trainable_config(const ExperimentConfig& cfg) {
  if (cfg.experiment.trainable == "synthetic") return validate_synthetic(cfg);
  if (cfg.experiment.group_size > 1)
    throw ConfigError("experiment.group_size",
                      "the gpt trainable trains with one rank per group in this version",
                      "set group_size = 1 (sharded groups come with the ZeRO-3 issue)");
  validate_gpt_config(cfg);
}

TrainableSetup make_trainable(const ExperimentConfig& cfg, const Topology& topo, MPI_Comm group) {
  (void)group;
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
    s.trainable = make_gpt_trainable(cfg, nullptr);
    s.device = "cpu";
  }
  s.trainable = with_fault_injection(std::move(s.trainable), cfg.faults, topo.group_rank);
  return s;
}

}  // namespace mpitune
