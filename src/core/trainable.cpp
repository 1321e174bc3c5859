#include "mpitune/core/trainable.hpp"

#include "mpitune/core/error.hpp"

namespace mpitune {

void Trainable::save_checkpoint(const std::string&) {
  throw InfraError("this trainable does not support checkpoints");
}

void Trainable::load_checkpoint(const std::string&, int64_t, const HParams&) {
  throw InfraError("this trainable does not support checkpoints");
}

}  // namespace mpitune
