// The command line: `mpitune run`, `mpitune report`, `mpitune validate`, each with --help.
// Boost.Program_options parses; errors are one line naming the flag and the fix, exit code 2.
#pragma once

namespace mpitune {

int cli_main(int argc, char** argv);

}  // namespace mpitune
