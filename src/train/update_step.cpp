// Gradient reduction, overflow check, clipping and AdamW at the end of a step (see update_step.hpp).
#include "mpitune/train/update_step.hpp"

#include <ATen/ATen.h>

#include <cmath>

namespace mpitune {

UpdateOutcome update_parameters(GptModel& model, DynamicLossScaler* scaler, const AdamWOptions& o,
                                double lr, double grad_clip) {
  const at::Tensor norm_squared = model.reduce_gradients();
  UpdateOutcome out;
  if (!scaler) {
    model.apply_adamw(o, lr, clip_factor(norm_squared, grad_clip));
    return out;
  }
  const double s = scaler->scale();
  const bool overflow = !std::isfinite(norm_squared.item<double>());
  if (overflow) {
    model.zero_gradients();
  } else {
    const at::Tensor factor = clip_factor(norm_squared / (s * s), grad_clip) / s;
    model.apply_adamw(o, lr, factor);
  }
  scaler->update(overflow);
  out.skipped = overflow;
  out.loss_scale = scaler->scale();
  return out;
}

}  // namespace mpitune
