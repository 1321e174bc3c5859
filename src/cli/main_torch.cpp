// The entry point of `mpitune-torch`: the same commands as mpitune, with libtorch linked. It is
// what mpitune hands over to (runtime/torch_hand_over.hpp) and never hands over itself.
#include "mpitune/runtime/cli.hpp"
#include "mpitune/runtime/torch_hand_over.hpp"

int main(int argc, char** argv) {
  mpitune::note_torch_hand_over(argc, argv);
  return mpitune::cli_main(argc, argv);
}
