// The entry point of `mpitune`, the executable without libtorch: a command that needs libtorch
// becomes mpitune-torch before anything starts (runtime/torch_hand_over.hpp); everything else is
// in src/cli/cli.cpp and the runtime.
#include "mpitune/runtime/cli.hpp"
#include "mpitune/runtime/torch_hand_over.hpp"

int main(int argc, char** argv) {
  mpitune::hand_over_to_torch_if_needed(argc, argv);
  return mpitune::cli_main(argc, argv);
}
