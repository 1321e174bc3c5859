// The optimizer math shared by the dense and the ZeRO-3 sharded models: AdamW over flat fp32
// buffers (or shard slices of them), the learning-rate schedule and global-norm clipping.
//
// Everything works on 1-D fp32 tensors so that a shard slice and a whole unit buffer take the
// same code; weight decay is chosen per element range (gpt.hpp puts decayed parameters first in
// each unit, so a slice has at most one decayed and one undecayed range).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "mpitune/core/config.hpp"

namespace mpitune {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;  // decoupled; applied only to decayed ranges

  static AdamWOptions from(const TrainOptions& t);
};

// One AdamW update, exactly torch.optim.AdamW's (amsgrad off), in place on equal-length fp32
// tensors. `step` is the 1-based count of updates including this one (bias corrections);
// `weight_decay` is the decay of these elements (0 for biases and norms):
//   param *= 1 - lr * weight_decay
//   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
//   param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
void adamw_update(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg,
                  at::Tensor& exp_avg_sq, int64_t step, double lr, double beta1, double beta2,
                  double eps, double weight_decay);

// A range of a slice with one weight-decay setting, in slice-local element offsets.
struct DecayRange {
  int64_t offset = 0;
  int64_t length = 0;
  bool decay = false;
};
// The ranges of the slice [begin, end) of a unit buffer whose elements [0, decay_numel) take
// weight decay: at most two, empty ranges left out.
std::vector<DecayRange> decay_ranges(int64_t begin, int64_t end, int64_t decay_numel);

// AdamW over a slice [begin, begin + param.numel()) of a unit buffer: adamw_update on each of
// its decay ranges (weight decay o.weight_decay on the decayed one, 0 on the other).
void adamw_update_slice(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg,
                        at::Tensor& exp_avg_sq, int64_t step, double lr, const AdamWOptions& o,
                        int64_t begin, int64_t decay_numel);

// Learning rate of the update with 0-based index `step` of a budget of `max_steps` updates:
// linear warmup lr * (step + 1) / warmup_steps for step < warmup_steps (from 0, reaching lr at
// the last warmup step), then cosine decay from lr to min_lr_ratio * lr, reached at step
// max_steps (and held after it).
double learning_rate(int64_t step, double lr, int64_t warmup_steps, int64_t max_steps,
                     double min_lr_ratio);

// Global-norm clipping as torch.nn.utils.clip_grad_norm_: the factor that multiplies every
// gradient, min(1, max_norm / (norm + 1e-6)), from the squared global norm (a 0-dim fp32 tensor,
// so no host sync is needed). max_norm = 0 turns clipping off (factor 1). A non-finite norm gives
// a non-finite factor, which poisons the step as it should (the loss is non-finite too).
at::Tensor clip_factor(const at::Tensor& norm_squared, double max_norm);

// Sum of squares of a tensor, accumulated in fp32, as a 0-dim fp32 tensor.
at::Tensor sum_of_squares(const at::Tensor& t);

}  // namespace mpitune
