// `mpitune run`'s flags: one parser for the command itself (src/cli/cli.cpp) and for the
// hand-over to mpitune-torch, which reads them before MPI starts (torch_handover.hpp), so both
// understand a command line the same way.
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

#include "mpitune/runtime/run.hpp"

namespace mpitune {

// The options of `mpitune run`, with its --help text.
boost::program_options::options_description run_options_description();

// `args` (the words after "run") parsed; `--resume FILE` (a separate word) is read as
// `--resume=FILE`. ConfigError("command line", ...) for flags run does not know.
boost::program_options::variables_map parse_run_words(const std::vector<std::string>& args,
                                                      const boost::program_options::options_description& desc);

// --help or --print-default-config: the command prints and starts no experiment.
bool run_prints_only(const boost::program_options::variables_map& vm);

// The request of a parsed command line (command_line left empty). ConfigError for --resume
// together with --no-resume.
RunRequest run_request_from(const boost::program_options::variables_map& vm);

}  // namespace mpitune
