// The config of --config and --set (see config_options.hpp).
#include "mpitune/runtime/config_options.hpp"

#include <string>
#include <vector>

#include "mpitune/runtime/run.hpp"

namespace mpitune {

IniFile config_from_options(const boost::program_options::variables_map& vm) {
  return config_with_overrides(vm.count("config") ? vm["config"].as<std::string>() : "",
                               vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{});
}

}  // namespace mpitune
