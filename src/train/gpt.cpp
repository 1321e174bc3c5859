// GPT layout, initialisation and functional forward (see gpt.hpp).
#include "mpitune/train/gpt.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/version.h>

#include <cmath>
#include <limits>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

constexpr double kInitStd = 0.02;  // GPT-2
constexpr double kLnEps = 1e-5;    // torch.nn.LayerNorm's default, as GPT-2 implementations use

void add_param(UnitLayout& u, std::string name, std::vector<int64_t> shape, InitKind init, bool decay) {
  ParamSpec p;
  p.name = std::move(name);
  p.shape = std::move(shape);
  p.numel = 1;
  for (int64_t d : p.shape) p.numel *= d;
  p.offset = u.numel;
  p.init = init;
  p.decay = decay;
  u.numel += p.numel;
  if (decay) {
    MPITUNE_CHECK(u.decay_numel == p.offset, "decayed parameters must come first in a unit");
    u.decay_numel = u.numel;
  }
  u.params.push_back(std::move(p));
}

UnitLayout root_layout(const GptShape& s) {
  UnitLayout u;
  u.name = "root";
  add_param(u, "wte", {s.table_rows(), s.d_model}, InitKind::Normal, true);
  add_param(u, "wpe", {s.seq_len, s.d_model}, InitKind::Normal, true);
  add_param(u, "ln_f.weight", {s.d_model}, InitKind::Ones, false);
  add_param(u, "ln_f.bias", {s.d_model}, InitKind::Zeros, false);
  return u;
}

UnitLayout block_layout(const GptShape& s, int64_t i) {
  const int64_t d = s.d_model;
  const std::string h = "h." + std::to_string(i) + ".";
  UnitLayout u;
  u.name = "h." + std::to_string(i);
  // Must follow the BlockParam order of gpt.hpp.
  add_param(u, h + "attn.qkv.weight", {3 * d, d}, InitKind::Normal, true);
  add_param(u, h + "attn.proj.weight", {d, d}, InitKind::ResidualNormal, true);
  add_param(u, h + "mlp.fc.weight", {4 * d, d}, InitKind::Normal, true);
  add_param(u, h + "mlp.proj.weight", {d, 4 * d}, InitKind::ResidualNormal, true);
  add_param(u, h + "ln_1.weight", {d}, InitKind::Ones, false);
  add_param(u, h + "ln_1.bias", {d}, InitKind::Zeros, false);
  add_param(u, h + "attn.qkv.bias", {3 * d}, InitKind::Zeros, false);
  add_param(u, h + "attn.proj.bias", {d}, InitKind::Zeros, false);
  add_param(u, h + "ln_2.weight", {d}, InitKind::Ones, false);
  add_param(u, h + "ln_2.bias", {d}, InitKind::Zeros, false);
  add_param(u, h + "mlp.fc.bias", {4 * d}, InitKind::Zeros, false);
  add_param(u, h + "mlp.proj.bias", {d}, InitKind::Zeros, false);
  return u;
}

}  // namespace

GptShape GptShape::from(const ModelOptions& m) {
  GptShape s;
  s.n_layer = m.n_layer;
  s.n_head = m.n_head;
  s.d_model = m.d_model;
  s.seq_len = m.seq_len;
  s.vocab = m.vocab_size;
  return s;
}

std::vector<UnitLayout> gpt_layout(const GptShape& shape) {
  MPITUNE_CHECK(shape.n_head > 0 && shape.d_model % shape.n_head == 0, "n_head must divide d_model");
  std::vector<UnitLayout> units;
  units.push_back(root_layout(shape));
  for (int64_t i = 0; i < shape.n_layer; ++i) units.push_back(block_layout(shape, i));
  MPITUNE_CHECK(units[0].params.size() == kRootParams, "root layout does not match RootParam");
  for (size_t i = 1; i < units.size(); ++i)
    MPITUNE_CHECK(units[i].params.size() == kBlockParams, "block layout does not match BlockParam");
  return units;
}

int64_t count_parameters(const std::vector<UnitLayout>& units) {
  int64_t n = 0;
  for (const auto& u : units) n += u.numel;
  return n;
}

std::vector<at::Tensor> unit_views(const at::Tensor& flat, const UnitLayout& unit) {
  MPITUNE_CHECK(flat.dim() == 1 && flat.numel() >= unit.numel, "unit buffer too small for " + unit.name);
  std::vector<int64_t> sizes;
  sizes.reserve(unit.params.size() + 1);
  for (const auto& p : unit.params) sizes.push_back(p.numel);
  if (flat.numel() > unit.numel) sizes.push_back(flat.numel() - unit.numel);  // padding
  std::vector<at::Tensor> pieces = flat.split_with_sizes(sizes);
  std::vector<at::Tensor> views;
  views.reserve(unit.params.size());
  for (size_t i = 0; i < unit.params.size(); ++i) views.push_back(pieces[i].view(unit.params[i].shape));
  return views;
}

at::Tensor init_unit(const UnitLayout& unit, int64_t n_layer, uint64_t seed) {
  at::Tensor flat = at::empty({unit.numel}, at::TensorOptions().dtype(at::kFloat));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double residual_std = kInitStd / std::sqrt(2.0 * static_cast<double>(n_layer));
  for (const auto& p : unit.params) {
    at::Tensor t = flat.narrow(0, p.offset, p.numel);
    switch (p.init) {
      case InitKind::Normal: t.normal_(0.0, kInitStd, gen); break;
      case InitKind::ResidualNormal: t.normal_(0.0, residual_std, gen); break;
      case InitKind::Zeros: t.zero_(); break;
      case InitKind::Ones: t.fill_(1.0); break;
    }
  }
  return flat;
}

RootParams RootParams::from(const std::vector<at::Tensor>& v, int64_t vocab) {
  MPITUNE_CHECK(v.size() == kRootParams, "root unit has the wrong number of parameters");
  MPITUNE_CHECK(vocab <= v[kWte].size(0), "vocab larger than the token table");
  return {v[kWte], v[kWpe], v[kLnFWeight], v[kLnFBias], vocab};
}

BlockParams BlockParams::from(const std::vector<at::Tensor>& v) {
  MPITUNE_CHECK(v.size() == kBlockParams, "block unit has the wrong number of parameters");
  BlockParams b;
  b.ln1_weight = v[kLn1Weight];
  b.ln1_bias = v[kLn1Bias];
  b.qkv_weight = v[kQkvWeight];
  b.qkv_bias = v[kQkvBias];
  b.proj_weight = v[kProjWeight];
  b.proj_bias = v[kProjBias];
  b.ln2_weight = v[kLn2Weight];
  b.ln2_bias = v[kLn2Bias];
  b.fc_weight = v[kFcWeight];
  b.fc_bias = v[kFcBias];
  b.out_weight = v[kOutWeight];
  b.out_bias = v[kOutBias];
  return b;
}

at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, /*attn_mask=*/{}, /*dropout_p=*/0.0, /*is_causal=*/true);
#else
  const int64_t t = q.size(-2);
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul_(scale);
  // Position i may attend to positions <= i: mask the strict upper triangle.
  const at::Tensor future = at::ones({t, t}, q.options().dtype(at::kBool)).triu_(1);
  scores.masked_fill_(future, -std::numeric_limits<double>::infinity());
  return at::matmul(at::softmax(scores, -1), v);
#endif
}

at::Tensor gpt_embed(const RootParams& root, const at::Tensor& tokens) {
  const int64_t t = tokens.size(1);
  if (t > root.wpe.size(0))
    throw TrialError("sequence of " + std::to_string(t) + " tokens is longer than seq_len = " +
                     std::to_string(root.wpe.size(0)));
  return at::embedding(root.wte, tokens) + root.wpe.narrow(0, 0, t);
}

at::Tensor gpt_block(const BlockParams& p, const at::Tensor& x, int64_t n_head) {
  const int64_t b = x.size(0), t = x.size(1), d = x.size(2), hd = d / n_head;
  at::Tensor h = at::layer_norm(x, {d}, p.ln1_weight, p.ln1_bias, kLnEps);
  const std::vector<at::Tensor> qkv = at::linear(h, p.qkv_weight, p.qkv_bias).split(d, 2);
  auto heads = [&](const at::Tensor& a) { return a.view({b, t, n_head, hd}).transpose(1, 2); };
  at::Tensor y = causal_attention(heads(qkv[0]), heads(qkv[1]), heads(qkv[2]));
  y = y.transpose(1, 2).reshape({b, t, d});
  at::Tensor r = x + at::linear(y, p.proj_weight, p.proj_bias);
  h = at::layer_norm(r, {d}, p.ln2_weight, p.ln2_bias, kLnEps);
  h = at::gelu(at::linear(h, p.fc_weight, p.fc_bias), "tanh");
  return r + at::linear(h, p.out_weight, p.out_bias);
}

at::Tensor gpt_head_loss(const RootParams& root, const at::Tensor& x, const at::Tensor& targets) {
  const int64_t d = x.size(2), rows = root.wte.size(0), vocab = root.vocab > 0 ? root.vocab : rows;
  const at::Tensor h = at::layer_norm(x, {d}, root.ln_f_weight, root.ln_f_bias, kLnEps);
  at::Tensor logits = at::linear(h, root.wte);  // tied head, over the whole (aligned) table
  if (vocab < rows) logits = logits.narrow(-1, 0, vocab);
  return at::cross_entropy_loss(logits.reshape({-1, vocab}).to(at::kFloat), targets.reshape({-1}),
                                /*weight=*/{}, at::Reduction::Mean, /*ignore_index=*/-100,
                                /*label_smoothing=*/0.0);
}

at::Tensor gpt_loss(const RootParams& root, const std::vector<BlockParams>& blocks, int64_t n_head,
                    const at::Tensor& tokens, const at::Tensor& targets) {
  at::Tensor x = gpt_embed(root, tokens);
  for (const auto& b : blocks) x = gpt_block(b, x, n_head);
  return gpt_head_loss(root, x, targets);
}

}  // namespace mpitune
