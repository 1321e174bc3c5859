// AdamW, LR schedule and clipping (see optim.hpp).
#include "mpitune/train/optim.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "mpitune/core/error.hpp"

namespace mpitune {

AdamWOptions AdamWOptions::from(const TrainOptions& t) {
  AdamWOptions o;
  o.beta1 = t.beta1;
  o.beta2 = t.beta2;
  o.eps = t.eps;
  o.weight_decay = t.weight_decay;
  return o;
}

void adamw_update(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg,
                  at::Tensor& exp_avg_sq, int64_t step, double lr, double beta1, double beta2,
                  double eps, double weight_decay) {
  MPITUNE_CHECK(step >= 1, "AdamW step counts from 1");
  // The same sequence of tensor ops as libtorch's torch::optim::AdamW, so results match to the bit.
  if (weight_decay != 0) param.mul_(1 - lr * weight_decay);
  exp_avg.mul_(beta1).add_(grad, 1 - beta1);
  exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
  const at::Tensor denom = (exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(eps);
  param.addcdiv_(exp_avg, denom, -lr / bias_correction1);
}

std::vector<DecayRange> decay_ranges(int64_t begin, int64_t end, int64_t decay_numel) {
  std::vector<DecayRange> out;
  const int64_t split = std::clamp(decay_numel, begin, end);
  if (split > begin) out.push_back({0, split - begin, true});
  if (end > split) out.push_back({split - begin, end - split, false});
  return out;
}

void adamw_update_slice(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg,
                        at::Tensor& exp_avg_sq, int64_t step, double lr, const AdamWOptions& o,
                        int64_t begin, int64_t decay_numel) {
  for (const DecayRange& r : decay_ranges(begin, begin + param.numel(), decay_numel)) {
    at::Tensor p = param.narrow(0, r.offset, r.length);
    at::Tensor m = exp_avg.narrow(0, r.offset, r.length);
    at::Tensor v = exp_avg_sq.narrow(0, r.offset, r.length);
    adamw_update(p, grad.narrow(0, r.offset, r.length), m, v, step, lr, o.beta1, o.beta2, o.eps,
                 r.decay ? o.weight_decay : 0.0);
  }
}

double learning_rate(int64_t step, double lr, int64_t warmup_steps, int64_t max_steps,
                     double min_lr_ratio) {
  if (step < warmup_steps)
    return lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const double min_lr = lr * min_lr_ratio;
  const int64_t decay_steps = max_steps - warmup_steps;
  if (decay_steps <= 0) return min_lr;
  const double progress =
      std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(decay_steps));
  return min_lr + 0.5 * (lr - min_lr) * (1 + std::cos(M_PI * progress));
}

at::Tensor clip_factor(const at::Tensor& norm_squared, double max_norm) {
  if (max_norm <= 0) return at::ones({}, norm_squared.options());
  return (max_norm / (norm_squared.sqrt() + 1e-6)).clamp_max(1.0);
}

at::Tensor sum_of_squares(const at::Tensor& t) {
  const at::Tensor f = t.to(at::kFloat);
  return (f * f).sum();
}

}  // namespace mpitune
