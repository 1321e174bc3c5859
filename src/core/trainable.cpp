#include "mpitune/core/trainable.hpp"

#include <limits>

#include "mpitune/core/error.hpp"

namespace mpitune {

double Trainable::evaluate_retention() { return std::numeric_limits<double>::quiet_NaN(); }

Trainable::DocumentLosses Trainable::evaluate_test_documents() {
  throw InfraError("this trainable has no test split to evaluate");
}

void Trainable::save_checkpoint(const std::string&) {
  throw InfraError("this trainable does not support checkpoints");
}

void Trainable::load_checkpoint(const std::string&, int64_t, const HParams&) {
  throw InfraError("this trainable does not support checkpoints");
}

std::vector<uint8_t> Trainable::save_state() {
  throw InfraError("this trainable cannot send its state (PBT)");
}

void Trainable::load_state(const std::vector<uint8_t>&, int64_t, const HParams&) {
  throw InfraError("this trainable cannot receive a state (PBT)");
}

void Trainable::update_hparams(const HParams&) {
  throw InfraError("this trainable cannot change hyperparameters while training (PBT)");
}

}  // namespace mpitune
