// Boost.Program_options errors as one-line ConfigErrors (see cli_options.hpp).
#include "mpitune/runtime/cli_options.hpp"

#include "mpitune/core/error.hpp"

namespace po = boost::program_options;

namespace mpitune {

po::variables_map parse_command_line(const std::vector<std::string>& args, const po::options_description& desc,
                                     const po::positional_options_description* pos, const std::string& command) {
  po::variables_map vm;
  try {
    auto parser = po::command_line_parser(args).options(desc);
    if (pos) parser.positional(*pos);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError("command line", e.what(), "see mpitune " + command + " --help");
  }
  return vm;
}

}  // namespace mpitune
