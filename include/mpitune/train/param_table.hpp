// A unit's parameters as named tensors (views of its flat buffers), what the architectures'
// forward functions read, and the initial values of a scratch buffer.
//
// Why views of flat buffers: ZeRO-3 gathers and frees a unit as a few flat buffers, and the dense
// model keeps the same buffers whole, so both run the very same forward over these views. One
// split per buffer, so the backward of all its views is a single cat into the buffer's gradient.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "mpitune/train/model_layout.hpp"

namespace mpitune {

// The parameters of `buffer` as views of `flat` (1-D, at least buffer.numel elements; elements
// past that are padding and ignored), in layout order.
std::vector<at::Tensor> buffer_views(const at::Tensor& flat, const UnitLayout& buffer);

class ParamTable {
 public:
  // Adds every parameter of `buffer` as a view of `flat`, under its name inside the unit.
  void add(const UnitLayout& buffer, const at::Tensor& flat);
  // InfraError naming the parameter when it is absent (a layout/architecture mismatch).
  const at::Tensor& operator[](const std::string& name) const;
  const at::Tensor* find(const std::string& name) const;

 private:
  std::vector<std::pair<std::string, at::Tensor>> entries_;
};

// Initial values of a scratch buffer: a new 1-D fp32 CPU tensor of buffer.numel elements drawn
// from a torch CPU generator seeded with `seed` (pass derive_seed(trial seed, "init", buffer
// index) so that one buffer's values do not depend on the others). GPT-2's scheme: N(0, 0.02),
// residual projections N(0, 0.02 / sqrt(2 n_layer)), norms 1, biases 0; LoRA A uniform in
// +-1/sqrt(in), B zero. Same seed, same values.
at::Tensor init_buffer(const UnitLayout& buffer, int64_t n_layer, uint64_t seed);

}  // namespace mpitune
