// Builds the Trainable of one worker rank from the config (gpt or synthetic, with injected
// faults when [faults] asks), and the checks of its config that rank 0 runs before the job.
// Neither needs libtorch itself (the gpt trainable comes from make_gpt_trainable_setup).
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

// The two parts that need libtorch, defined twice: for real in src/runtime/gpt_trainable_setup.cpp
// (mpitune-torch, the tests), and as stand-ins in src/cli/torch_free_parts.cpp (the torch-free
// mpitune, whose ranks that train a GPT hand over to mpitune-torch before MPI starts, so the
// stand-in of the first is never reached; see runtime/torch_handover.hpp).
TrainableSetup make_gpt_trainable_setup(const ExperimentConfig& cfg, const Topology& topo, MPI_Comm group);
// cuda_available() of libtorch. The stand-in says false, libtorch's answer when it is a CPU
// build; with a CUDA libtorch, the commands that ask (validate, and rank 0 of a gpt run) run in
// mpitune-torch.
bool torch_cuda_usable();

// Throws ConfigError for what the trainable cannot run (missing corpus, fp16 on CPU, ...). For
// the gpt trainable this also tokenizes the corpus into its cache, once per experiment (a
// progress line on stderr when `progress`).
void validate_trainable_config(const ExperimentConfig& cfg, bool progress = false);

}  // namespace mpitune
