// `mpitune run`: one MPI job is the whole experiment.
//
// Rank 0 reads and validates the config (and everything that can be checked before work
// starts: world size, corpus, output path) and broadcasts either the final config text or the
// error; on an error every rank exits with code 2 and rank 0 prints one line. Then the world
// splits into the coordinator and the trial groups, and each runs its loop to the end.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mpitune/core/ini.hpp"

namespace mpitune {

struct RunRequest {
  std::string config_path;             // empty: the embedded default experiment
  std::vector<std::string> overrides;  // "section.key=value"
  std::string command_line;
  bool quiet = false;                  // no live status table
  bool verbose = false;                // the live status has a line per busy group
  // --resume / --no-resume (unset: experiment.resume decides); resume_file: `--resume FILE`,
  // whose own config is used when there is no --config.
  std::optional<bool> resume;
  std::string resume_file;
};

// Collective over MPI_COMM_WORLD (MPI must be initialised). Returns the exit code: 0 the
// experiment finished, 2 bad input (on every rank), 3 interrupted by a signal and resumable (rank
// 0; the others 0), 4 aborted because a group stopped answering (the job is ended with
// MPI_Abort); other errors after the start abort the job with 1.
int run_experiment(const RunRequest& req);

// The embedded default experiment (README's first command runs it).
const char* default_config_text();

// The INI of `config_path` (the embedded default when empty) with each "section.key=value" of
// `overrides` applied in order: what --config and --set mean for validate and simulate.
IniFile config_with_overrides(const std::string& config_path, const std::vector<std::string>& overrides);

}  // namespace mpitune
