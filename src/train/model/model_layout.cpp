// The buffers and parameters of the GPT-2 and Llama families (see model_layout.hpp).
#include "mpitune/train/model_layout.hpp"

#include <algorithm>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// Adds a parameter; `file_shape` differs from `shape` only for token tables.
void add(UnitLayout& u, std::string name, std::vector<int64_t> shape, InitKind init,
         std::vector<int64_t> file_shape = {}) {
  ParamSpec p;
  p.name = std::move(name);
  p.shape = std::move(shape);
  p.file_shape = file_shape.empty() ? p.shape : std::move(file_shape);
  p.numel = product(p.shape);
  p.file_numel = product(p.file_shape);
  p.offset = u.numel;
  p.init = init;
  p.decay = p.shape.size() == 2;  // matrices and embeddings; not norms or biases
  u.numel += p.numel;
  if (p.decay) {
    MPITUNE_CHECK(u.decay_numel == p.offset, "decayed parameters must come first in a buffer");
    u.decay_numel = u.numel;
  }
  u.params.push_back(std::move(p));
}

UnitLayout root(const ModelSpec& s, bool trainable) {
  UnitLayout u;
  u.name = "root";
  u.unit = 0;
  u.trainable = trainable;
  const int64_t rows = s.table_rows(), d = s.d_model;
  if (s.family == ArchFamily::Gpt2) {
    add(u, "wte.weight", {rows, d}, InitKind::Normal, {s.vocab, d});
    add(u, "wpe.weight", {s.max_positions, d}, InitKind::Normal);
    if (!s.tied) add(u, "lm_head.weight", {rows, d}, InitKind::Normal, {s.vocab, d});
    add(u, "ln_f.weight", {d}, InitKind::Ones);
    add(u, "ln_f.bias", {d}, InitKind::Zeros);
  } else {
    add(u, "model.embed_tokens.weight", {rows, d}, InitKind::Normal, {s.vocab, d});
    if (!s.tied) add(u, "lm_head.weight", {rows, d}, InitKind::Normal, {s.vocab, d});
    add(u, "model.norm.weight", {d}, InitKind::Ones);
  }
  return u;
}

std::string block_prefix(const ModelSpec& s, int64_t i) {
  return (s.family == ArchFamily::Gpt2 ? "h." : "model.layers.") + std::to_string(i) + ".";
}

UnitLayout block(const ModelSpec& s, int64_t i, bool trainable) {
  UnitLayout u;
  u.name = "h." + std::to_string(i);
  u.unit = static_cast<size_t>(1 + i);
  u.trainable = trainable;
  u.prefix = block_prefix(s, i);
  const int64_t d = s.d_model, ff = s.d_ff;
  if (s.family == ArchFamily::Gpt2) {
    // Conv1D weights, stored [in, out] as in GPT-2's files.
    add(u, "attn.c_attn.weight", {d, 3 * d}, InitKind::Normal);
    add(u, "attn.c_proj.weight", {d, d}, InitKind::ResidualNormal);
    add(u, "mlp.c_fc.weight", {d, ff}, InitKind::Normal);
    add(u, "mlp.c_proj.weight", {ff, d}, InitKind::ResidualNormal);
    add(u, "ln_1.weight", {d}, InitKind::Ones);
    add(u, "ln_1.bias", {d}, InitKind::Zeros);
    add(u, "attn.c_attn.bias", {3 * d}, InitKind::Zeros);
    add(u, "attn.c_proj.bias", {d}, InitKind::Zeros);
    add(u, "ln_2.weight", {d}, InitKind::Ones);
    add(u, "ln_2.bias", {d}, InitKind::Zeros);
    add(u, "mlp.c_fc.bias", {ff}, InitKind::Zeros);
    add(u, "mlp.c_proj.bias", {d}, InitKind::Zeros);
    return u;
  }
  const int64_t q = s.n_head * s.head_dim, kv = s.n_kv_head * s.head_dim;
  // nn.Linear weights, stored [out, in].
  add(u, "self_attn.q_proj.weight", {q, d}, InitKind::Normal);
  add(u, "self_attn.k_proj.weight", {kv, d}, InitKind::Normal);
  add(u, "self_attn.v_proj.weight", {kv, d}, InitKind::Normal);
  add(u, "self_attn.o_proj.weight", {d, q}, InitKind::ResidualNormal);
  add(u, "mlp.gate_proj.weight", {ff, d}, InitKind::Normal);
  add(u, "mlp.up_proj.weight", {ff, d}, InitKind::Normal);
  add(u, "mlp.down_proj.weight", {d, ff}, InitKind::ResidualNormal);
  add(u, "input_layernorm.weight", {d}, InitKind::Ones);
  add(u, "post_attention_layernorm.weight", {d}, InitKind::Ones);
  if (s.qkv_bias) {
    add(u, "self_attn.q_proj.bias", {q}, InitKind::Zeros);
    add(u, "self_attn.k_proj.bias", {kv}, InitKind::Zeros);
    add(u, "self_attn.v_proj.bias", {kv}, InitKind::Zeros);
  }
  if (s.o_bias) add(u, "self_attn.o_proj.bias", {d}, InitKind::Zeros);
  if (s.mlp_bias) {
    add(u, "mlp.gate_proj.bias", {ff}, InitKind::Zeros);
    add(u, "mlp.up_proj.bias", {ff}, InitKind::Zeros);
    add(u, "mlp.down_proj.bias", {d}, InitKind::Zeros);
  }
  return u;
}

// A block's LoRA adapters: A [rank, in] (random) and B [out, rank] (zero) per targeted linear.
UnitLayout adapters(const ModelSpec& s, int64_t i) {
  UnitLayout u;
  u.name = "h." + std::to_string(i) + ".lora";
  u.unit = static_cast<size_t>(1 + i);
  u.trainable = true;
  u.adapters = true;
  u.prefix = block_prefix(s, i);
  for (const auto& site : s.linears()) {
    if (std::find(s.lora.modules.begin(), s.lora.modules.end(), site.module) == s.lora.modules.end()) continue;
    add(u, site.module + ".lora_A.weight", {s.lora.rank, site.in}, InitKind::LoraA);
    add(u, site.module + ".lora_B.weight", {site.out, s.lora.rank}, InitKind::Zeros);
  }
  return u;
}

}  // namespace

const ParamSpec* UnitLayout::find(const std::string& param) const {
  for (const auto& p : params)
    if (p.name == param) return &p;
  return nullptr;
}

std::vector<UnitLayout> model_layout(const ModelSpec& s) {
  MPITUNE_CHECK(s.n_layer >= 1 && s.d_model >= 1 && s.n_head >= 1 && s.n_kv_head >= 1 && s.n_head % s.n_kv_head == 0,
                "invalid model shape: " + s.shape_text());
  const bool lora = s.lora.rank > 0;
  std::vector<UnitLayout> out;
  out.push_back(root(s, !lora));
  for (int64_t i = 0; i < s.n_layer; ++i) {
    out.push_back(block(s, i, !lora));
    if (lora) {
      out.push_back(adapters(s, i));
      MPITUNE_CHECK(!out.back().params.empty(), "LoRA without target modules");
    }
  }
  return out;
}

size_t unit_count(const std::vector<UnitLayout>& layout) { return layout.empty() ? 0 : layout.back().unit + 1; }

ParameterCounts count_parameters(const std::vector<UnitLayout>& layout) {
  ParameterCounts c;
  for (const auto& b : layout)
    for (const auto& p : b.params) {
      c.total += p.file_numel;
      if (b.trainable) c.trainable += p.file_numel;
    }
  return c;
}

}  // namespace mpitune
