// GptModel: what the trainer needs from a decoder language model's parameter storage, whatever
// the storage is and whichever family (GPT-2, Llama) computes the forward.
//
// The dense model (dense_gpt.hpp: every rank holds every parameter) and the ZeRO-3 sharded model
// (sharded_gpt.hpp) implement it over the same flat buffers (model_layout.hpp), so the trainer's
// step loop is the same for both. Trainable buffers keep an fp32 master, an fp32 gradient and
// AdamW's m and v; frozen buffers (the base model under LoRA) only their values in the compute
// dtype: no master, gradient or optimizer state.
// Every call is collective over the group when the model has one, in the same order on every rank.
// Tensors returned are on the model's device; nothing here forces a host sync.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>

#include "mpitune/train/device.hpp"
#include "mpitune/train/model_layout.hpp"
#include "mpitune/train/optim.hpp"

namespace mpitune {

class ByteReader;
class ByteWriter;
class SafetensorsFile;
class SafetensorsFolder;

// The dtype a precision computes in (fp32 / bf16 / fp16).
at::ScalarType compute_scalar_type(Precision p);

// Frozen buffers shared between the trials of one group: every LoRA trial of the same base model
// and precision uses the same frozen values, so a group loads them once, not once per trial.
// Keyed by buffer name and everything that decides its values; the tensors are never written.
struct FrozenCache {
  std::map<std::string, at::Tensor> slices;
};

// Where a new model's first values come from.
struct ModelInit {
  // Scratch buffers and LoRA adapters: a buffer is drawn from derive_seed(seed, "init:" + its name).
  uint64_t seed = 0;
  // Pretrained: the folder's tensors (the spec's path); every base buffer is read from it, only
  // the element ranges this rank keeps.
  const SafetensorsFolder* weights = nullptr;
  // LoRA adapters from a PEFT adapter_model.safetensors (PEFT key names) instead of the seed.
  const SafetensorsFile* adapter_weights = nullptr;
  FrozenCache* frozen = nullptr;  // optional
};

class GptModel {
 public:
  virtual ~GptModel() = default;

  virtual const ModelSpec& spec() const = 0;
  virtual const std::vector<UnitLayout>& layout() const = 0;
  virtual at::Device device() const = 0;
  virtual Precision precision() const = 0;

  // Forward and backward of one local micro-batch (tokens, targets: [rows, time] int64 on the
  // device; targets -100 do not count): adds loss_weight * d(loss sum)/d(parameters) to the fp32
  // gradients of the trainable buffers. Returns the sum of the counted positions' losses,
  // detached, as a 0-dim fp32 tensor (the caller divides by its count of targets).
  virtual at::Tensor forward_backward(const at::Tensor& tokens, const at::Tensor& targets,
                                      double loss_weight) = 0;
  // The same sum without gradients (evaluation).
  virtual at::Tensor forward_loss(const at::Tensor& tokens, const at::Tensor& targets) = 0;
  // Logits [rows, time, vocab] as fp32, without gradients (tests and references).
  virtual at::Tensor forward_logits(const at::Tensor& tokens) = 0;

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
  // Changes what the LoRA adapters add, not their shapes (PBT's explore of lora.alpha/dropout).
  virtual void set_lora(double alpha, double dropout) = 0;

  // The full values of buffer b as a new 1-D fp32 tensor of layout()[b].numel elements: the
  // master of a trainable buffer, the compute-dtype values of a frozen one (collective for a
  // sharded model). For tests, export and checkpoints.
  virtual at::Tensor buffer_values(size_t b) = 0;

  // This rank's part of the training state — the trainable buffers' fp32 master values, AdamW m
  // and v, the update count (gradients are zero between steps, low-precision copies and frozen
  // buffers are derived) — as bytes and back. Not collective. import_state checks that the
  // bytes were written by a model of the same kind, shape and rank, and throws InfraError naming
  // the mismatch otherwise.
  virtual void export_state(ByteWriter& w) const = 0;
  virtual void import_state(ByteReader& r) = 0;
};

// Fills elements [begin, end) of buffer `b` of `layout` with its first values (fp32) from `init`:
// the pretrained folder's tensors for base buffers when init.weights is set, a PEFT file's for
// adapters when init.adapter_weights is, else the seeded scratch values; token-table padding and
// ZeRO-3 padding (past numel) are zero.
void initial_values(const ModelSpec& spec, const std::vector<UnitLayout>& layout, size_t b, const ModelInit& init,
                    int64_t begin, int64_t end, float* out);

}  // namespace mpitune
