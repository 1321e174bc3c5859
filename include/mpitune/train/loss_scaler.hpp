// The dynamic loss scaler of fp16 training (DESIGN.md §4): the loss is multiplied by `scale`
// before backward so small fp16 gradients do not flush to zero; a step whose gradients overflow
// (inf or NaN on any rank) is skipped on every rank.
//
// Rules (Megatron-LM's DynamicGradScaler, which DeepSpeed's defaults match):
//  - overflow: the step is skipped, the clean-step count restarts, and one unit of hysteresis is
//    spent; once none is left, the scale halves (never below min_scale), and every further
//    overflow halves it again until the next growth.
//  - clean step: counted; after `window` clean steps in a row the scale doubles and the
//    hysteresis is refilled.
// Defaults: initial 2^16, window 1000, hysteresis 2, minimum 1. Pure: no torch, no MPI; the
// overflow flag it is given must already be agreed by the whole group.
#pragma once

#include <cstdint>

namespace mpitune {

struct LossScalerOptions {
  double initial_scale = 65536.0;
  int64_t window = 1000;
  int hysteresis = 2;
  double min_scale = 1.0;
};

class DynamicLossScaler {
 public:
  struct State {
    double scale = 65536.0;
    int64_t clean_steps = 0;    // clean steps since the last overflow or growth
    int hysteresis_left = 2;    // overflows still absorbed before the scale halves
  };

  explicit DynamicLossScaler(const LossScalerOptions& o = {});

  double scale() const { return state_.scale; }
  // Records the outcome of one step (overflow: the step was skipped).
  void update(bool overflow);

  const State& state() const { return state_; }
  void set_state(const State& s) { state_ = s; }
  const LossScalerOptions& options() const { return options_; }

 private:
  LossScalerOptions options_;
  State state_;
};

}  // namespace mpitune
