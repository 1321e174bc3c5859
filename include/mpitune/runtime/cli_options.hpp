// Parsing a subcommand's flags with Boost.Program_options: one place that turns Boost's errors
// into mpitune's one-line ConfigError ("command line: ...; see mpitune <command> --help").
#pragma once

#include <boost/program_options.hpp>

#include <string>
#include <vector>

namespace mpitune {

// `pos`: positional arguments, or null. Throws ConfigError("command line", ...).
boost::program_options::variables_map parse_command_line(
    const std::vector<std::string>& args, const boost::program_options::options_description& desc,
    const boost::program_options::positional_options_description* pos, const std::string& command);

}  // namespace mpitune
