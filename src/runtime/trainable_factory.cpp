// The trainable of a worker rank (see trainable_factory.hpp). No libtorch here: the gpt trainable
// is built by make_gpt_trainable_setup, which only mpitune-torch has for real.
#include "mpitune/runtime/trainable_factory.hpp"

#include "mpitune/core/fault_injection.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "mpitune/train/gpt_config.hpp"

namespace mpitune {

void validate_trainable_config(const ExperimentConfig& cfg, bool progress) {
  if (cfg.experiment.trainable == "synthetic") return validate_synthetic(cfg);
  validate_gpt_config(cfg, progress, torch_cuda_usable());
}

TrainableSetup make_trainable(const ExperimentConfig& cfg, const Topology& topo, MPI_Comm group) {
  TrainableSetup s;
  if (cfg.experiment.trainable == "synthetic") {
    s.trainable = make_synthetic_trainable(cfg);
    s.device = "cpu";
  } else {
    s = make_gpt_trainable_setup(cfg, topo, group);
  }
  s.trainable = with_fault_injection(std::move(s.trainable), cfg.faults, topo.group_rank);
  return s;
}

}  // namespace mpitune
