// Batches of token windows as tensors, and the loss of a model over fixed windows: what the
// trainable's evaluation and `mpitune eval` share, so both compute the same number.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "mpitune/data/token_corpus.hpp"

namespace mpitune {

class GptModel;

// (inputs, targets) [rows, window - 1] int64 on `device` of the windows offsets[begin, end) of
// `split` (targets -100 where they do not count).
std::pair<at::Tensor, at::Tensor> token_batch(const TokenSplit& split, const std::vector<int64_t>& offsets,
                                              int64_t begin, int64_t end, int64_t window, at::Device device);

struct LossSum {
  double sum = 0;       // of the counted targets' cross-entropies
  int64_t targets = 0;  // counted targets
};
// The model's loss over the windows offsets[begin, end), `chunk` rows at a time (no gradients).
LossSum windows_loss(GptModel& model, const TokenSplit& split, const std::vector<int64_t>& offsets, int64_t begin,
                     int64_t end, int64_t window, int64_t chunk);

}  // namespace mpitune
