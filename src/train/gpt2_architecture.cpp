// GPT-2 (GPT2LMHeadModel): learned positions, pre-LN blocks of fused-qkv attention and a GELU
// MLP, Conv1D linears stored [in, out], final LayerNorm, head tied to the token embedding (or an
// untied lm_head). See architecture.hpp.
#include <ATen/ATen.h>

#include "mpitune/core/error.hpp"
#include "mpitune/train/architecture.hpp"

namespace mpitune {
namespace {

class Gpt2Architecture final : public Architecture {
 public:
  explicit Gpt2Architecture(const ModelSpec& s) : Architecture(s) {}

  at::Tensor embed(const ParamTable& root, const at::Tensor& tokens) const override {
    const at::Tensor& wpe = root["wpe.weight"];
    const int64_t t = tokens.size(1);
    if (t > wpe.size(0))
      throw TrialError("sequence of " + std::to_string(t) + " tokens is longer than the model's " +
                       std::to_string(wpe.size(0)) + " positions");
    return at::embedding(root["wte.weight"], tokens) + wpe.narrow(0, 0, t);
  }

  at::Tensor block(const ParamTable& p, const at::Tensor& x, bool training) const override {
    const int64_t b = x.size(0), t = x.size(1), d = x.size(2), nh = spec_.n_head, hd = d / nh;
    const double eps = spec_.norm_eps;
    at::Tensor h = at::layer_norm(x, {d}, p["ln_1.weight"], p["ln_1.bias"], eps);
    const std::vector<at::Tensor> qkv = linear(p, "attn.c_attn", h, /*conv1d=*/true, training).split(d, 2);
    auto heads = [&](const at::Tensor& a) { return a.view({b, t, nh, hd}).transpose(1, 2); };
    at::Tensor y = causal_attention(heads(qkv[0]), heads(qkv[1]), heads(qkv[2]));
    y = y.transpose(1, 2).reshape({b, t, d});
    const at::Tensor r = x + linear(p, "attn.c_proj", y, true, training);
    h = at::layer_norm(r, {d}, p["ln_2.weight"], p["ln_2.bias"], eps);
    h = at::gelu(linear(p, "mlp.c_fc", h, true, training), spec_.gelu_tanh ? "tanh" : "none");
    return r + linear(p, "mlp.c_proj", h, true, training);
  }

  at::Tensor logits(const ParamTable& root, const at::Tensor& x) const override {
    const at::Tensor h = at::layer_norm(x, {x.size(2)}, root["ln_f.weight"], root["ln_f.bias"], spec_.norm_eps);
    const at::Tensor& head = spec_.tied ? root["wte.weight"] : root["lm_head.weight"];
    const at::Tensor l = at::linear(h, head);  // over the whole (aligned) table
    return head.size(0) > spec_.vocab ? l.narrow(-1, 0, spec_.vocab) : l;
  }
};

}  // namespace

std::unique_ptr<Architecture> make_gpt2_architecture(const ModelSpec& spec) {
  return std::make_unique<Gpt2Architecture>(spec);
}

}  // namespace mpitune
