// mpitune's entry point; everything else is in src/cli/cli.cpp and the runtime.
#include "mpitune/runtime/cli.hpp"

int main(int argc, char** argv) { return mpitune::cli_main(argc, argv); }
