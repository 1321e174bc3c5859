// Frozen buffer slices and the FrozenCache: the key of a slice (everything that decides its
// values), and the lookup that loads a slice only when the cache does not hold it yet.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>

#include "mpitune/train/gpt_model.hpp"

namespace mpitune {

// Buffer name, the base model's shape (without LoRA) and source, precision, device, and the
// rank's slice of a group of `group_size`.
std::string frozen_key(const ModelSpec& spec, const UnitLayout& buffer, Precision precision, at::Device device,
                       int rank, int group_size);

// The frozen slice of `buffer` for this rank: from `cache` when it holds it (null: no cache, or
// values that differ per trial, such as a scratch model's), else `load()` in the compute dtype of
// `precision`, stored in the cache for the group's next trial.
at::Tensor frozen_slice(FrozenCache* cache, const ModelSpec& spec, const UnitLayout& buffer, Precision precision,
                        at::Device device, int rank, int group_size, const std::function<at::Tensor()>& load);

}  // namespace mpitune
