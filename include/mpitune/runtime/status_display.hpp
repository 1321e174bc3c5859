// The live status table rank 0 prints while an experiment runs, and the final banner.
// Plain lines (no cursor control): under mpirun stdout is a pipe, and the lines are also
// what a Slurm log file keeps.
#pragma once

#include <string>

#include "mpitune/coord/coordinator_core.hpp"

namespace mpitune {

// A few lines: elapsed, device-minutes, trial counts, the best so far, what each group runs.
std::string format_status(const std::string& experiment, const std::string& metric,
                          const StatusSnapshot& s, int64_t max_steps);

// "1h02m03s" / "2m05s" / "12.3s"
std::string format_duration(double seconds);

}  // namespace mpitune
