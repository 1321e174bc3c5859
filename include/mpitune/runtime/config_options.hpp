// The config a command's --config and --set flags name, for the commands that read one
// (validate, simulate): one reading of the two flags.
#pragma once

#include <boost/program_options.hpp>

#include "mpitune/core/ini.hpp"

namespace mpitune {

// --config FILE (none: the embedded default) with every --set applied (config_with_overrides).
IniFile config_from_options(const boost::program_options::variables_map& vm);

}  // namespace mpitune
