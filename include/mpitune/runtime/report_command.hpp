// `mpitune report FILE... [--reference FILE...] [--aggregate] [--format md|csv] [--bootstrap N]`:
// reads the result files and prints report.hpp's report. The command lives in the app layer
// (src/cli/report_command.cpp: it reads HDF5); the report itself is core.
#pragma once

#include <string>
#include <vector>

namespace mpitune {

// Exit code 0; ConfigError for bad flags, InfraError (or HDF5 errors) for unreadable files.
int report_command(const std::vector<std::string>& args);

}  // namespace mpitune
