// The dynamic loss scaler's rules (see loss_scaler.hpp).
#include "mpitune/train/loss_scaler.hpp"

#include <algorithm>

#include "mpitune/core/error.hpp"

namespace mpitune {

DynamicLossScaler::DynamicLossScaler(const LossScalerOptions& o) : options_(o) {
  MPITUNE_CHECK(o.initial_scale >= o.min_scale && o.min_scale > 0 && o.window >= 1 && o.hysteresis >= 1,
                "bad loss scaler options");
  state_.scale = o.initial_scale;
  state_.hysteresis_left = o.hysteresis;
}

void DynamicLossScaler::update(bool overflow) {
  if (overflow) {
    state_.clean_steps = 0;
    state_.hysteresis_left = std::max(0, state_.hysteresis_left - 1);
    if (state_.hysteresis_left == 0) state_.scale = std::max(options_.min_scale, state_.scale / 2);
    return;
  }
  if (++state_.clean_steps == options_.window) {
    state_.clean_steps = 0;
    state_.scale *= 2;
    state_.hysteresis_left = options_.hysteresis;
  }
}

}  // namespace mpitune
