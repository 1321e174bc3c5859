// What every architecture shares: the loss, LoRA-aware linears, attention, RMSNorm (see
// architecture.hpp); the families are in gpt2_architecture.cpp and llama_architecture.cpp.
#include "mpitune/train/architecture.hpp"

#include <ATen/ATen.h>
#include <torch/version.h>

#include <cmath>
#include <limits>

#include "mpitune/core/error.hpp"

namespace mpitune {

std::unique_ptr<Architecture> make_gpt2_architecture(const ModelSpec& spec);
std::unique_ptr<Architecture> make_llama_architecture(const ModelSpec& spec);

std::unique_ptr<Architecture> Architecture::make(const ModelSpec& spec) {
  return spec.family == ArchFamily::Gpt2 ? make_gpt2_architecture(spec) : make_llama_architecture(spec);
}

at::Tensor Architecture::loss_sum(const ParamTable& root, const at::Tensor& x, const at::Tensor& targets) const {
  const at::Tensor l = logits(root, x);
  return at::cross_entropy_loss(l.reshape({-1, l.size(-1)}).to(at::kFloat), targets.reshape({-1}),
                                /*weight=*/{}, at::Reduction::Sum, /*ignore_index=*/-100,
                                /*label_smoothing=*/0.0);
}

at::Tensor Architecture::linear(const ParamTable& p, const std::string& module, const at::Tensor& x, bool conv1d,
                                bool training) const {
  const at::Tensor& w = p[module + ".weight"];
  const at::Tensor* b = p.find(module + ".bias");
  at::Tensor y;
  if (conv1d) {
    const at::Tensor x2 = x.reshape({-1, x.size(-1)});
    y = b ? at::addmm(*b, x2, w) : at::mm(x2, w);
    std::vector<int64_t> shape = x.sizes().vec();
    shape.back() = w.size(1);
    y = y.view(shape);
  } else {
    y = b ? at::linear(x, w, *b) : at::linear(x, w);
  }
  if (const at::Tensor* a = p.find(module + ".lora_A.weight")) {
    const at::Tensor& bb = p[module + ".lora_B.weight"];
    const double drop = spec_.lora.dropout;
    const at::Tensor in = training && drop > 0 ? at::dropout(x, drop, /*train=*/true) : x;
    y = y + at::linear(at::linear(in, *a), bb) * spec_.lora.scale();
  }
  return y;
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

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor h = x.to(at::kFloat);
  const at::Tensor normed = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * normed.to(x.scalar_type());
}

}  // namespace mpitune
