// Token windows as tensors and their loss (see token_batches.hpp).
#include "mpitune/train/token_batches.hpp"

#include <ATen/ATen.h>

#include <algorithm>

#include "mpitune/core/error.hpp"
#include "mpitune/train/gpt_model.hpp"

namespace mpitune {

std::pair<at::Tensor, at::Tensor> token_batch(const TokenSplit& split, const std::vector<int64_t>& offsets,
                                              int64_t begin, int64_t end, int64_t window, at::Device device) {
  const int64_t rows = end - begin;
  at::Tensor inputs = at::empty({rows, window - 1}, at::TensorOptions().dtype(at::kLong));
  at::Tensor targets = at::empty({rows, window - 1}, at::TensorOptions().dtype(at::kLong));
  fill_batch(split, offsets, begin, end, window, inputs.data_ptr<int64_t>(), targets.data_ptr<int64_t>());
  return {inputs.to(device), targets.to(device)};
}

LossSum windows_loss(GptModel& model, const TokenSplit& split, const std::vector<int64_t>& offsets, int64_t begin,
                     int64_t end, int64_t window, int64_t chunk) {
  MPITUNE_CHECK(chunk > 0, "windows_loss needs chunks of at least one row");
  LossSum out;
  for (int64_t b = begin; b < end; b += chunk) {
    const int64_t e = std::min(b + chunk, end);
    const auto [tokens, targets] = token_batch(split, offsets, b, e, window, model.device());
    out.sum += model.forward_loss(tokens, targets).item<double>();
    out.targets += count_targets(split, offsets, b, e, window);
  }
  return out;
}

}  // namespace mpitune
