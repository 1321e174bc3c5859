// Builds the Trainable of one worker rank from the config (gpt or synthetic, with injected
// faults when [faults] asks), and the checks of its config that rank 0 runs before the job.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "mpitune/comm/topology.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

struct TrainableSetup {
  std::unique_ptr<Trainable> trainable;
  std::string device;  // "cpu", "cuda:0": for /groups
};

TrainableSetup make_trainable(const ExperimentConfig& cfg, const Topology& topo, MPI_Comm group);

// Throws ConfigError for what the trainable cannot run (missing corpus, fp16 on CPU, ...). For
// the gpt trainable this also tokenizes the corpus into its cache, once per experiment (a
// progress line on stderr when `progress`).
void validate_trainable_config(const ExperimentConfig& cfg, bool progress = false);

}  // namespace mpitune
