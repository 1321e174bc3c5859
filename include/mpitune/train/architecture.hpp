// The forward pass of a decoder-only language model, as pure functions of its parameters
// (ParamTable), one family per implementation:
//   gpt2:  x = wte[ids] + wpe[pos]; per block x += c_proj(attn(LN1 x)); x += mlp(LN2 x) with
//          Conv1D linears (y = x W + b, W stored [in, out]), GELU (tanh); LN_f; tied head.
//   llama: x = embed[ids]; per block x += o_proj(attn(rope(q), rope(k), v)) on RMSNorm'd x,
//          grouped-query attention; x += down(silu(gate x) * up x) on RMSNorm'd x; norm; head.
// These follow Hugging Face transformers' GPT2LMHeadModel and LlamaForCausalLM (RMSNorm in
// fp32, RoPE in the rotate-half convention), so a model loaded from a Hugging Face folder gives
// the same logits.
// LoRA: every linear named in spec.lora.modules adds scale * B(A(dropout(x))) to its output
// (PEFT's LoraLayer), with dropout only when training.
// Why functional: the dense model (whole buffers) and the ZeRO-3 model (views of gathered
// buffers) run the very same code, block by block.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>

#include "mpitune/train/model_spec.hpp"
#include "mpitune/train/param_table.hpp"

namespace mpitune {

class Architecture {
 public:
  virtual ~Architecture() = default;
  static std::unique_ptr<Architecture> make(const ModelSpec& spec);

  // tokens [batch, time] int64 -> activations [batch, time, d_model] in the parameters' dtype.
  virtual at::Tensor embed(const ParamTable& root, const at::Tensor& tokens) const = 0;
  // One block; `training` turns LoRA dropout on.
  virtual at::Tensor block(const ParamTable& block, const at::Tensor& x, bool training) const = 0;
  // Final norm and head: logits [batch, time, vocab] in the parameters' dtype (the padding rows
  // of the token table are not classes).
  virtual at::Tensor logits(const ParamTable& root, const at::Tensor& x) const = 0;

  // Sum over every position whose target is not -100 of the cross-entropy of predicting it,
  // computed in fp32: a 0-dim fp32 tensor (callers divide by the number of targets).
  at::Tensor loss_sum(const ParamTable& root, const at::Tensor& x, const at::Tensor& targets) const;

  const ModelSpec& spec() const { return spec_; }

 protected:
  explicit Architecture(const ModelSpec& spec) : spec_(spec) {}
  // y = x W^T + b (nn.Linear, W [out, in]) or x W + b (Conv1D, W [in, out]), plus the LoRA
  // adapter of `module` when the table has one.
  at::Tensor linear(const ParamTable& p, const std::string& module, const at::Tensor& x, bool conv1d,
                    bool training) const;
  ModelSpec spec_;
};

// Causal scaled-dot-product attention of q, k, v: [batch, heads, time, head_dim]. libtorch 2.x:
// at::scaled_dot_product_attention(is_causal); 1.13 has none, so a masked softmax there.
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

// RMSNorm as Hugging Face's LlamaRMSNorm: normalised in fp32, cast back, times the weight.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

}  // namespace mpitune
