// GptModel: what the trainer needs from a GPT's parameter storage, whatever the storage is.
//
// The dense model (dense_gpt.hpp: every rank holds every parameter) and the ZeRO-3 sharded model
// (sharded_gpt.hpp) implement it, so the trainer's step loop is the same for both.
// Every call is collective over the group when the model has one, in the same order on every rank.
// Tensors returned are on the model's device; nothing here forces a host sync.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt.hpp"
#include "mpitune/train/optim.hpp"

namespace mpitune {

class ByteReader;
class ByteWriter;

// The dtype a precision computes in (fp32 / bf16 / fp16).
at::ScalarType compute_scalar_type(Precision p);

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
  // Clears the gradients without an update (a step skipped for an fp16 overflow).
  virtual void zero_gradients() = 0;
  // AdamW updates done so far.
  virtual int64_t optimizer_steps() const = 0;

  // The full fp32 master values of unit u (a new 1-D tensor of layout()[u].numel elements;
  // collective for a sharded model). For tests and checkpoints.
  virtual at::Tensor master_unit(size_t u) = 0;

  // This rank's part of the training state (fp32 master values, AdamW m and v, the update count;
  // gradients are zero between steps and low-precision copies are derived), as bytes and back.
  // Not collective. import_state checks that the bytes were written by a model of the same kind,
  // shape and rank, and throws InfraError naming the mismatch otherwise.
  virtual void export_state(ByteWriter& w) const = 0;
  virtual void import_state(ByteReader& r) = 0;
};

}  // namespace mpitune
