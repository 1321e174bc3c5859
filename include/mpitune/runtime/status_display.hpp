// The live status table rank 0 prints while an experiment runs, and the final banner.
// Plain lines (no cursor control): under mpirun stdout is a pipe, and the lines are also
// what a Slurm log file keeps.
//
// A fixed number of lines of at most kStatusLineWidth characters whatever the number of
// groups, so that 64 groups stay readable in a log:
//   == asha_gpt | 12m05s elapsed | 96.7 device-min
//      trials   41: 16 running, 0 paused, 20 completed, 4 stopped, 1 failed
//      best     eval_loss 2.31457 trial 17  lr=0.00123 n_layer=4 ...
//      groups   64: 60 busy, 4 idle | 99.3 trials/h ended
// With `verbose`, one more line per busy group ("   g12  trial 42  step 81/243"), sorted by group.
#pragma once

#include <cstddef>
#include <string>

#include "mpitune/coord/coordinator_core.hpp"

namespace mpitune {

constexpr size_t kStatusLineWidth = 100;

// `num_groups`: the job's groups (0: unknown, then only busy ones are counted). Throughput is
// the trials that ended (completed, stopped, failed) per hour of elapsed time.
std::string format_status(const std::string& experiment, const std::string& metric,
                          const StatusSnapshot& s, int64_t max_steps, bool verbose = false, int num_groups = 0);

// "1h02m03s" / "2m05s" / "12.3s"
std::string format_duration(double seconds);

}  // namespace mpitune
