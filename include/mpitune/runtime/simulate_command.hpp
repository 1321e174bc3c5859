// `mpitune simulate --config X [--groups N] [--set ...] [--output FILE]`: the experiment of config
// X on N simulated groups, in one process and on a discrete-event clock, run by the same
// CoordinatorCore, schedulers and searchers as `mpitune run` (coord/simulator.hpp), with the
// cost model of the config's [simulate] section (coord/cost_model.hpp). It writes the same HDF5
// result file as a run (through the real store, so `mpitune report`, `--html` and `status` read
// it; its times are virtual seconds from the wall clock at the start, device_kind "simulated",
// /groups hosts "simulated") and prints the utilisation (busy group-seconds / (groups x
// elapsed)), the ideal time (busy group-seconds / groups), the overhead against it, and the
// coordinator's decisions per wall second.
//
// The trainable is always a synthetic objective: a synthetic config's own, with its
// synthetic.step_cost_ms sleep removed (that cost becomes the default simulate.step_seconds);
// a gpt config is simulated as the learning_curve objective over the same [space] (the GPT's
// hyperparameters drive the synthetic curve and the cost model; no model, data or tokenizer is
// read). The output follows the config's rules: experiment.output (or --output), overwrite, and
// the lock on the output that `run` holds.
#pragma once

#include <string>
#include <vector>

namespace mpitune {

// `command_line`: the whole command line, for the file's command_line attribute. Exit code 0;
// throws ConfigError for bad flags or configs, InfraError when writing fails.
int simulate_command(const std::vector<std::string>& args, const std::string& command_line);

}  // namespace mpitune
