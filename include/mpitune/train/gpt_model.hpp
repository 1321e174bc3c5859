// GptModel: what the trainer needs from a GPT's parameter storage, whatever the storage is.
//
// The dense model (dense_gpt.hpp: every rank holds every parameter) implements it now; the ZeRO-3
// sharded model implements the same calls, so the trainer's step loop does not change.
// Every call is collective over the group when the model has one, in the same order on every rank.
// Tensors returned are on the model's device; nothing here forces a host sync.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt.hpp"
#include "mpitune/train/optim.hpp"

namespace mpitune {

class GptModel {
 public:
  virtual ~GptModel() = default;

  virtual const GptShape& shape() const = 0;
  virtual const std::vector<UnitLayout>& layout() const = 0;
  virtual at::Device device() const = 0;
  virtual Precision precision() const = 0;

  // Forward and backward of one local micro-batch (tokens, targets: [rows, time] int64 on the
  // device): adds loss_weight * d(mean loss)/d(parameters) to the fp32 gradient accumulators.
  // Returns the micro-batch's mean loss, detached, as a 0-dim fp32 tensor.
  virtual at::Tensor forward_backward(const at::Tensor& tokens, const at::Tensor& targets,
                                      double loss_weight) = 0;
  // Mean loss of a local batch, without gradients (0-dim fp32 tensor).
  virtual at::Tensor forward_loss(const at::Tensor& tokens, const at::Tensor& targets) = 0;

  // Finishes the step's gradients over the group (sums the ranks' contributions) and returns
  // the squared global gradient norm (0-dim fp32 tensor).
  virtual at::Tensor reduce_gradients() = 0;
  // One AdamW update at learning rate lr with every gradient multiplied by grad_factor (a 0-dim
  // tensor: clipping), then clears the gradients for the next step.
  virtual void apply_adamw(const AdamWOptions& o, double lr, const at::Tensor& grad_factor) = 0;
  // AdamW updates done so far.
  virtual int64_t optimizer_steps() const = 0;

  // The full fp32 master values of unit u (a new 1-D tensor of layout()[u].numel elements;
  // collective for a sharded model). For tests and checkpoints.
  virtual at::Tensor master_unit(size_t u) = 0;
};

}  // namespace mpitune
