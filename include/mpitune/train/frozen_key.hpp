// The key of a frozen buffer slice in a FrozenCache: everything that decides its values.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "mpitune/train/gpt_model.hpp"

namespace mpitune {

// Buffer name, the base model's shape (without LoRA) and source, precision, device, and the
// rank's slice of a group of `group_size`.
std::string frozen_key(const ModelSpec& spec, const UnitLayout& buffer, Precision precision, at::Device device,
                       int rank, int group_size);

}  // namespace mpitune
