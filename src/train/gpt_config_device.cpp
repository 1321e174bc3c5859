// validate_gpt_config with libtorch's answer to whether CUDA is usable (see gpt_config.hpp); the
// checks themselves are in model/gpt_config.cpp, which needs no torch.
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_config.hpp"

namespace mpitune {

void validate_gpt_config(const ExperimentConfig& c, bool progress) { validate_gpt_config(c, progress, cuda_available()); }

}  // namespace mpitune
