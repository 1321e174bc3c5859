// The Llama family (LlamaForCausalLM; Mistral and Qwen2 differ only in config): RMSNorm,
// rotary position embeddings in Hugging Face's rotate-half convention, grouped-query attention,
// a SwiGLU MLP, and a head tied to the embedding or not. See architecture.hpp.
#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <mutex>
#include <tuple>

#include "mpitune/core/error.hpp"
#include "mpitune/train/architecture.hpp"

namespace mpitune {
namespace {

// q' = q cos + rotate_half(q) sin, rotate_half(x) = cat(-x2, x1) for the two halves of head_dim.
at::Tensor rotate(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

class LlamaArchitecture final : public Architecture {
 public:
  explicit LlamaArchitecture(const ModelSpec& s) : Architecture(s) {
    MPITUNE_CHECK(s.head_dim % 2 == 0, "rotary embeddings need an even head_dim");
  }

  at::Tensor embed(const ParamTable& root, const at::Tensor& tokens) const override {
    return at::embedding(root["model.embed_tokens.weight"], tokens);
  }

  at::Tensor block(const ParamTable& p, const at::Tensor& x, bool training) const override {
    const int64_t b = x.size(0), t = x.size(1), nh = spec_.n_head, nkv = spec_.n_kv_head, hd = spec_.head_dim;
    at::Tensor h = rms_norm(x, p["input_layernorm.weight"], spec_.norm_eps);
    auto heads = [&](const at::Tensor& a, int64_t n) { return a.view({b, t, n, hd}).transpose(1, 2); };
    at::Tensor q = heads(linear(p, "self_attn.q_proj", h, false, training), nh);
    at::Tensor k = heads(linear(p, "self_attn.k_proj", h, false, training), nkv);
    at::Tensor v = heads(linear(p, "self_attn.v_proj", h, false, training), nkv);
    const auto [cos, sin] = rope_tables(t, x);
    q = rotate(q, cos, sin);
    k = rotate(k, cos, sin);
    if (nkv != nh) {
      // Query head j reads key/value head j / (nh / nkv), as repeat_kv does.
      auto repeat = [&](const at::Tensor& a) {
        return a.unsqueeze(2).expand({b, nkv, nh / nkv, t, hd}).reshape({b, nh, t, hd});
      };
      k = repeat(k);
      v = repeat(v);
    }
    at::Tensor y = causal_attention(q, k, v).transpose(1, 2).reshape({b, t, nh * hd});
    const at::Tensor r = x + linear(p, "self_attn.o_proj", y, false, training);
    h = rms_norm(r, p["post_attention_layernorm.weight"], spec_.norm_eps);
    const at::Tensor gated =
        at::silu(linear(p, "mlp.gate_proj", h, false, training)) * linear(p, "mlp.up_proj", h, false, training);
    return r + linear(p, "mlp.down_proj", gated, false, training);
  }

  at::Tensor logits(const ParamTable& root, const at::Tensor& x) const override {
    const at::Tensor h = rms_norm(x, root["model.norm.weight"], spec_.norm_eps);
    const at::Tensor& head = spec_.tied ? root["model.embed_tokens.weight"] : root["lm_head.weight"];
    const at::Tensor l = at::linear(h, head);
    return head.size(0) > spec_.vocab ? l.narrow(-1, 0, spec_.vocab) : l;
  }

 private:
  // cos and sin [t, head_dim] of positions 0..t-1 in x's dtype and device, computed once per
  // (t, dtype, device): inv_freq = theta^(-2i/head_dim), angle = position x inv_freq, and each
  // half of head_dim repeats the angles (Hugging Face's cat(freqs, freqs)).
  std::pair<at::Tensor, at::Tensor> rope_tables(int64_t t, const at::Tensor& like) const {
    const auto key = std::make_tuple(t, static_cast<int>(like.scalar_type()), like.device().str());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tables_.find(key);
    if (it != tables_.end()) return it->second;
    const int64_t hd = spec_.head_dim;
    const auto f64 = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor inv_freq = at::pow(spec_.rope_theta, at::arange(0, hd, 2, f64) / static_cast<double>(hd)).reciprocal();
    const at::Tensor angles = at::outer(at::arange(t, f64), inv_freq);
    const at::Tensor emb = at::cat({angles, angles}, -1);
    const auto opts = like.options().requires_grad(false);
    std::pair<at::Tensor, at::Tensor> cs{emb.cos().to(opts), emb.sin().to(opts)};
    tables_.emplace(key, cs);
    return cs;
  }

  mutable std::mutex mu_;
  mutable std::map<std::tuple<int64_t, int, std::string>, std::pair<at::Tensor, at::Tensor>> tables_;
};

}  // namespace

std::unique_ptr<Architecture> make_llama_architecture(const ModelSpec& spec) {
  return std::make_unique<LlamaArchitecture>(spec);
}

}  // namespace mpitune
