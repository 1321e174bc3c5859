// The GPT model as data and pure functions: the parameter layout grouped by sharding unit, the
// GPT-2 initialisation, and a functional forward over parameter tensors.
//
// GPT-2-style pre-LN decoder: token + position embedding; n_layer blocks of
//   x += proj(causal_attention(qkv(LN1(x))))    (one fused qkv Linear with bias)
//   x += out(GELU_tanh(fc(LN2(x))))              (MLP of width 4 d_model)
// then a final LN and a head tied to the token embedding (logits = x @ wte^T).
//
// Why functional: a unit's parameters live in one flat buffer (unit_views cuts it into tensors),
// so the dense model (whole fp32 buffers) and the ZeRO-3 model (views of all-gathered buffers)
// run the very same forward. Unit 0 is the root (wte, wpe, ln_f), unit 1 + i is block i.
// Inside a unit the parameters that take weight decay come first, so the decayed elements of any
// buffer or shard slice form one prefix range.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"

namespace mpitune {

struct GptShape {
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t d_model = 64;
  int64_t seq_len = 64;  // the position table's length: the longest context
  int64_t vocab = 256;   // byte-level tokens (model.vocab_size; larger only for benchmarks)

  static GptShape from(const ModelOptions& m);
  // Rows of the token table: vocab rounded up to a multiple of 64, so the tied head's GEMMs have
  // aligned leading dimensions (GPT-2's 50257 -> 50304, as nanoGPT pads; measured 1.45x faster
  // on an H100). The extra rows are never inputs, and the loss is over the first `vocab`
  // logits only, so the model is exactly a `vocab`-class model.
  int64_t table_rows() const { return (vocab + 63) / 64 * 64; }
};

enum class InitKind {
  Normal,          // N(0, 0.02)
  ResidualNormal,  // N(0, 0.02 / sqrt(2 n_layer)): projections that write into the residual
  Zeros,
  Ones,
};

struct ParamSpec {
  std::string name;            // GPT-2 style: "wte", "h.0.attn.qkv.weight", ...
  std::vector<int64_t> shape;
  int64_t offset = 0;          // into the unit's flat buffer
  int64_t numel = 0;
  InitKind init = InitKind::Normal;
  bool decay = false;          // weight decay applies (matrices and embeddings)
};

struct UnitLayout {
  std::string name;               // "root", "h.0", ...
  std::vector<ParamSpec> params;  // decayed parameters first
  int64_t numel = 0;              // elements of all parameters (before any padding)
  int64_t decay_numel = 0;        // elements [0, decay_numel) take weight decay
};

// Parameter order inside the units (indices into unit_views' result).
enum RootParam { kWte, kWpe, kLnFWeight, kLnFBias, kRootParams };
enum BlockParam {
  kQkvWeight, kProjWeight, kFcWeight, kOutWeight,  // decayed
  kLn1Weight, kLn1Bias, kQkvBias, kProjBias, kLn2Weight, kLn2Bias, kFcBias, kOutBias,
  kBlockParams
};

// All units: [0] the root, [1 + i] block i.
std::vector<UnitLayout> gpt_layout(const GptShape& shape);
int64_t count_parameters(const std::vector<UnitLayout>& units);

// The unit's parameters as views of `flat` (1-D, at least unit.numel elements; elements past
// that are padding and ignored), in layout order. One split, so the backward of all the views
// is a single cat into the buffer's gradient.
std::vector<at::Tensor> unit_views(const at::Tensor& flat, const UnitLayout& unit);

// GPT-2 initial values of one unit: a new 1-D fp32 CPU tensor of unit.numel elements, drawn from
// a torch CPU generator seeded with `seed` (pass derive_seed(trial seed, "init", unit index) so
// that each unit's values do not depend on the other units). Same seed, same values.
at::Tensor init_unit(const UnitLayout& unit, int64_t n_layer, uint64_t seed);

struct RootParams {
  at::Tensor wte, wpe, ln_f_weight, ln_f_bias;
  int64_t vocab = 0;  // classes of the head: the first rows of wte (0: all of them)
  static RootParams from(const std::vector<at::Tensor>& views, int64_t vocab = 0);
};

struct BlockParams {
  at::Tensor ln1_weight, ln1_bias, qkv_weight, qkv_bias, proj_weight, proj_bias;
  at::Tensor ln2_weight, ln2_bias, fc_weight, fc_bias, out_weight, out_bias;
  static BlockParams from(const std::vector<at::Tensor>& views);
};

// Causal scaled-dot-product attention of q, k, v: [batch, heads, time, head_dim]. libtorch 2.x:
// at::scaled_dot_product_attention(is_causal); 1.13 has none, so a masked softmax there.
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

// tokens [batch, time] int64 -> activations [batch, time, d_model] in the parameters' dtype.
at::Tensor gpt_embed(const RootParams& root, const at::Tensor& tokens);
// One pre-LN transformer block.
at::Tensor gpt_block(const BlockParams& block, const at::Tensor& x, int64_t n_head);
// Final LayerNorm, tied head and the mean cross-entropy over all positions, computed in fp32
// over the first root.vocab logits (the padding rows of the table are not classes).
at::Tensor gpt_head_loss(const RootParams& root, const at::Tensor& x, const at::Tensor& targets);
// The whole forward: mean cross-entropy of predicting targets [batch, time] from tokens.
at::Tensor gpt_loss(const RootParams& root, const std::vector<BlockParams>& blocks, int64_t n_head,
                    const at::Tensor& tokens, const at::Tensor& targets);

}  // namespace mpitune
