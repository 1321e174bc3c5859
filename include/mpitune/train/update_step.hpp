// The end of a training step, shared by the GPT trainable, the tests and the benchmark: reduce
// the gradients over the group, check for an fp16 overflow, clip by the global norm and update.
//
// With a loss scaler the micro-batches ran with loss_weight multiplied by scaler->scale(), so
// the gradients are scaled by S: the squared global norm is divided by S^2 for clipping and the
// update multiplies the gradients by clip / S (unscaling folded into the clip factor, one pass).
// Overflow = the squared global norm is not finite: reduce_gradients sums every rank's slice, so
// an inf or NaN on any rank reaches every rank, and all of them skip the same step. Reading that
// flag is the step's only host sync before the update (fp16 only; bf16 and fp32 queue the update
// without one).
#pragma once

#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/loss_scaler.hpp"
#include "mpitune/train/optim.hpp"

namespace mpitune {

struct UpdateOutcome {
  bool skipped = false;    // overflow: no update, gradients cleared
  double loss_scale = 1;   // the scale after this step (1 without a scaler)
};

UpdateOutcome update_parameters(GptModel& model, DynamicLossScaler* scaler, const AdamWOptions& o,
                                double lr, double grad_clip);

}  // namespace mpitune
