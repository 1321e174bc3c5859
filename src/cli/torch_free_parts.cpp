// The torch-free mpitune's stand-ins for the parts that need libtorch (declared in
// model_commands.hpp and trainable_factory.hpp; the real ones are in mpitune-torch). eval and
// export run mpitune-torch as a child process: mpitune reaches them only after MPI started
// (rank 0 exporting the best trial at the end of a run), otherwise it hands over before.
#include "mpitune/core/error.hpp"
#include "mpitune/runtime/model_commands.hpp"
#include "mpitune/runtime/torch_hand_over.hpp"
#include "mpitune/runtime/trainable_factory.hpp"

namespace mpitune {

int eval_command(const std::vector<std::string>& args) { return run_torch_command("eval", args); }

int export_command(const std::vector<std::string>& args) { return run_torch_command("export", args); }

TrainableSetup make_gpt_trainable_setup(const ExperimentConfig&, const Topology& topo, MPI_Comm) {
  throw InfraError("rank " + std::to_string(topo.world_rank) +
                   " must train a GPT but runs in mpitune, which has no libtorch: it should have handed over to " +
                   torch_sibling_path() + " before MPI started (is " + kHandedOverEnv + " set in the job's environment?)");
}

bool torch_cuda_usable() {
#ifdef MPITUNE_TORCH_CUDA
  throw InfraError("mpitune asked whether CUDA is usable without libtorch; a CUDA build answers that in mpitune-torch");
#else
  return false;  // what a CPU libtorch says
#endif
}

}  // namespace mpitune
