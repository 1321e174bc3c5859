// The model layouts (GPT-2 and Llama families, LoRA adapters), scratch initialisation and the
// functional forward: parameter counts, decay prefixes, causality, the initial loss, gradients
// reaching exactly the trainable buffers, padded token tables, LoRA's zero start.
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/train/architecture.hpp"
#include "mpitune/train/dense_gpt.hpp"
#include "mpitune/train/param_table.hpp"
#include "sharded_test_util.hpp"

namespace mpitune {
namespace {

using testing::seed_init;
using testing::tiny_spec;
using testing::with_lora;

const ArchFamily kFamilies[] = {ArchFamily::Gpt2, ArchFamily::Llama};

// Flat buffers of a spec as leaves that require grad, and the forward over them.
struct Flats {
  ModelSpec spec;
  std::vector<UnitLayout> layout;
  std::vector<at::Tensor> flats;
  std::unique_ptr<Architecture> arch;

  Flats(const ModelSpec& s, uint64_t seed, int64_t padding = 0)
      : spec(s), layout(model_layout(s)), arch(Architecture::make(s)) {
    for (const auto& b : layout) {
      at::Tensor f = at::cat({init_buffer(b, s.n_layer, derive_seed(seed, "init:" + b.name)), at::zeros({padding})});
      flats.push_back(f.requires_grad_(true));
    }
  }
  ParamTable table(size_t unit) const {
    ParamTable t;
    for (size_t b = 0; b < layout.size(); ++b)
      if (layout[b].unit == unit) t.add(layout[b], flats[b]);
    return t;
  }
  at::Tensor hidden(const at::Tensor& tokens) const {
    at::Tensor x = arch->embed(table(0), tokens);
    for (size_t u = 1; u < unit_count(layout); ++u) x = arch->block(table(u), x, false);
    return x;
  }
  at::Tensor mean_loss(const at::Tensor& tokens, const at::Tensor& targets) const {
    return arch->loss_sum(table(0), hidden(tokens), targets) / static_cast<double>(targets.numel());
  }
};

at::Tensor random_tokens(int64_t b, int64_t t, uint64_t seed, int64_t vocab = 256) {
  at::manual_seed(seed);
  return at::randint(vocab, {b, t}, at::TensorOptions().dtype(at::kLong));
}

TEST(ModelLayout, Gpt2HasGpt2sParameterCount) {
  const ModelSpec s = tiny_spec(ArchFamily::Gpt2);
  const int64_t d = s.d_model, l = s.n_layer;
  // Per block 12 d^2 + 13 d; embeddings V d + T d; final LayerNorm 2 d.
  const ParameterCounts c = count_parameters(model_layout(s));
  EXPECT_EQ(c.total, 12 * l * d * d + 13 * l * d + s.vocab * d + s.max_positions * d + 2 * d);
  EXPECT_EQ(c.trainable, c.total);
}

TEST(ModelLayout, LlamaCountsGroupedQueryAttentionAndTheUntiedHead) {
  const ModelSpec s = tiny_spec(ArchFamily::Llama);
  const int64_t d = s.d_model, q = s.n_head * s.head_dim, kv = s.n_kv_head * s.head_dim;
  const int64_t block = d * q + 2 * d * kv + q * d + 3 * d * s.d_ff + 2 * d;
  const ParameterCounts c = count_parameters(model_layout(s));
  EXPECT_EQ(c.total, s.n_layer * block + 2 * s.vocab * d + d);  // embedding + lm_head + final norm
  ModelSpec tied = s;
  tied.tied = true;
  EXPECT_EQ(count_parameters(model_layout(tied)).total, c.total - s.vocab * d);
}

TEST(ModelLayout, DecayedParametersAreOnePrefixOfEveryBuffer) {
  for (ArchFamily f : kFamilies) {
    for (const ModelSpec& s : {tiny_spec(f), with_lora(tiny_spec(f))}) {
      for (const auto& b : model_layout(s)) {
        int64_t decayed = 0, offset = 0;
        bool seen_undecayed = false;
        for (const auto& p : b.params) {
          EXPECT_EQ(p.offset, offset) << p.name;
          offset += p.numel;
          EXPECT_EQ(p.decay, p.shape.size() == 2) << p.name;  // matrices and embeddings only
          if (p.decay) {
            EXPECT_FALSE(seen_undecayed) << p.name;
            decayed += p.numel;
          } else {
            seen_undecayed = true;
          }
        }
        EXPECT_EQ(b.decay_numel, decayed) << b.name;
        EXPECT_EQ(b.numel, offset) << b.name;
      }
    }
  }
}

TEST(ModelLayout, LoraFreezesTheBaseAndAddsAdaptersOfPeftsShapes) {
  ModelSpec s = tiny_spec(ArchFamily::Llama);
  s.lora.rank = 4;
  s.lora.modules = resolve_lora_targets("attention", s.linears(), s.family);
  EXPECT_EQ(s.lora.modules, (std::vector<std::string>{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                      "self_attn.o_proj"}));
  const auto layout = model_layout(s);
  ASSERT_EQ(layout.size(), 1u + 2 * s.n_layer);
  int64_t adapter_params = 0;
  for (const auto& b : layout) {
    EXPECT_EQ(b.trainable, b.adapters) << b.name;
    if (!b.adapters) continue;
    const ParamSpec* a = b.find("self_attn.k_proj.lora_A.weight");
    const ParamSpec* bb = b.find("self_attn.k_proj.lora_B.weight");
    ASSERT_TRUE(a && bb) << b.name;
    EXPECT_EQ(a->shape, (std::vector<int64_t>{4, s.d_model}));
    EXPECT_EQ(bb->shape, (std::vector<int64_t>{s.n_kv_head * s.head_dim, 4}));
    adapter_params += b.numel;
  }
  const int64_t q = s.n_head * s.head_dim, kv = s.n_kv_head * s.head_dim, d = s.d_model;
  EXPECT_EQ(adapter_params, s.n_layer * 4 * ((d + q) + 2 * (d + kv) + (q + d)));
  const ParameterCounts c = count_parameters(layout);
  EXPECT_EQ(c.trainable, adapter_params);
  EXPECT_EQ(c.total, count_parameters(model_layout(tiny_spec(ArchFamily::Llama))).total + adapter_params);
}

TEST(ModelLayout, LoraTargetsResolveLikePeftsSuffixMatch) {
  const ModelSpec g = tiny_spec(ArchFamily::Gpt2);
  EXPECT_EQ(resolve_lora_targets("c_proj", g.linears(), g.family),
            (std::vector<std::string>{"attn.c_proj", "mlp.c_proj"}));
  EXPECT_EQ(resolve_lora_targets("mlp", g.linears(), g.family), (std::vector<std::string>{"mlp.c_fc", "mlp.c_proj"}));
  EXPECT_EQ(resolve_lora_targets("all-linear", g.linears(), g.family).size(), 4u);
  try {
    resolve_lora_targets("q_proj", g.linears(), g.family);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "lora.targets");
    EXPECT_NE(std::string(e.what()).find("c_attn"), std::string::npos) << e.what();
  }
}

TEST(ModelInit, SeededAndGpt2Scaled) {
  const ModelSpec s = tiny_spec(ArchFamily::Gpt2);
  const auto layout = model_layout(s);
  const UnitLayout& block = layout[1];
  const at::Tensor a = init_buffer(block, s.n_layer, 7);
  EXPECT_TRUE(at::equal(a, init_buffer(block, s.n_layer, 7)));
  EXPECT_FALSE(at::equal(a, init_buffer(block, s.n_layer, 8)));
  ParamTable t;
  t.add(block, a);
  // 0.02 for the inputs' projections, 0.02 / sqrt(2 L) for those into the residual stream.
  EXPECT_NEAR(t["attn.c_attn.weight"].std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(t["mlp.c_fc.weight"].std().item<double>(), 0.02, 0.002);
  const double residual = 0.02 / std::sqrt(2.0 * s.n_layer);
  EXPECT_NEAR(t["mlp.c_proj.weight"].std().item<double>(), residual, residual * 0.1);
  EXPECT_NEAR(t["attn.c_proj.weight"].std().item<double>(), residual, residual * 0.15);
  EXPECT_TRUE(at::equal(t["ln_1.weight"], at::ones({s.d_model})));
  EXPECT_TRUE(at::equal(t["attn.c_attn.bias"], at::zeros({3 * s.d_model})));
}

TEST(ModelForward, InitialLossIsAboutLnVocab) {
  for (ArchFamily f : kFamilies) {
    Flats m(tiny_spec(f), 1);
    const double loss = m.mean_loss(random_tokens(4, 16, 1), random_tokens(4, 16, 2)).item<double>();
    EXPECT_NEAR(loss, std::log(256.0), 0.1) << arch_family_name(f);
  }
}

TEST(ModelForward, AttentionIsCausal) {
  for (ArchFamily f : kFamilies) {
    auto m = make_dense_gpt(tiny_spec(f), seed_init(1), at::kCPU, Precision::F32, nullptr);
    const at::Tensor a = random_tokens(2, 16, 3);
    at::Tensor b = a.clone();
    b.select(1, 10).fill_(7);  // change position 10 only
    const at::Tensor la = m->forward_logits(a), lb = m->forward_logits(b);
    EXPECT_TRUE(at::allclose(la.narrow(1, 0, 10), lb.narrow(1, 0, 10), 1e-6, 1e-6)) << arch_family_name(f);
    EXPECT_FALSE(at::allclose(la.narrow(1, 10, 6), lb.narrow(1, 10, 6), 1e-6, 1e-6)) << arch_family_name(f);
  }
}

TEST(ModelForward, CausalAttentionMatchesAnExplicitSoftmax) {
  at::manual_seed(4);
  const at::Tensor q = at::randn({2, 3, 5, 8}), k = at::randn({2, 3, 5, 8}), v = at::randn({2, 3, 5, 8});
  const at::Tensor y = causal_attention(q, k, v);
  for (int64_t t = 0; t < 5; ++t) {
    const at::Tensor keys = k.narrow(2, 0, t + 1), values = v.narrow(2, 0, t + 1);
    const at::Tensor w = at::softmax(at::matmul(q.narrow(2, t, 1), keys.transpose(-2, -1)) / std::sqrt(8.0), -1);
    EXPECT_TRUE(at::allclose(y.narrow(2, t, 1), at::matmul(w, values), 1e-5, 1e-6)) << "position " << t;
  }
}

TEST(ModelForward, GradientsReachEveryTrainableParameterAndSkipPadding) {
  for (ArchFamily f : kFamilies) {
    for (const ModelSpec& s : {tiny_spec(f), with_lora(tiny_spec(f))}) {
      Flats m(s, 1, /*padding=*/5);
      // LoRA's B starts at zero, so A's gradient would be zero too: make B non-zero.
      {
        c10::NoGradGuard no_grad;
        for (size_t b = 0; b < m.layout.size(); ++b)
          for (const auto& p : m.layout[b].params)
            if (p.name.find("lora_B") != std::string::npos) m.flats[b].narrow(0, p.offset, p.numel).normal_(0, 0.1);
      }
      const at::Tensor loss = m.mean_loss(random_tokens(2, 16, 5), random_tokens(2, 16, 6));
      std::vector<at::Tensor> inputs;
      std::vector<size_t> which;
      for (size_t b = 0; b < m.layout.size(); ++b)
        if (m.layout[b].trainable) inputs.push_back(m.flats[b]), which.push_back(b);
      const auto grads = torch::autograd::grad({loss}, inputs);
      for (size_t i = 0; i < which.size(); ++i) {
        const UnitLayout& b = m.layout[which[i]];
        ASSERT_EQ(grads[i].numel(), b.numel + 5);
        EXPECT_TRUE(at::equal(grads[i].narrow(0, b.numel, 5), at::zeros({5}))) << b.name;
        for (const auto& p : b.params)
          EXPECT_GT(grads[i].narrow(0, p.offset, p.file_numel).abs().sum().item<double>(), 0) << p.name;
      }
    }
  }
}

TEST(ModelForward, PaddedTableRowsAreNeitherClassesNorTrained) {
  for (ArchFamily f : kFamilies) {
    ModelSpec s = tiny_spec(f);
    s.vocab = 300;  // the tables get 320 rows (a multiple of 64)
    EXPECT_EQ(s.table_rows(), 320);
    Flats m(s, 3);
    const std::string table = f == ArchFamily::Gpt2 ? "wte.weight" : "model.embed_tokens.weight";
    const ParamSpec* p = m.layout[0].find(table);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->shape, (std::vector<int64_t>{320, s.d_model}));
    EXPECT_EQ(p->file_shape, (std::vector<int64_t>{300, s.d_model}));
    const at::Tensor x = random_tokens(2, 16, 9, 300), y = random_tokens(2, 16, 10, 300);
    EXPECT_EQ(m.arch->logits(m.table(0), m.hidden(x)).size(-1), 300);
    const at::Tensor loss = m.mean_loss(x, y);
    EXPECT_NEAR(loss.item<double>(), std::log(300.0), 0.1);  // 300 classes, not 320
    const at::Tensor g = torch::autograd::grad({loss}, {m.flats[0]})[0];
    EXPECT_EQ(g.narrow(0, p->offset + p->file_numel, p->numel - p->file_numel).abs().sum().item<double>(), 0.0);
    // Huge values in the padding rows change nothing: they are not classes.
    {
      c10::NoGradGuard no_grad;
      m.flats[0].narrow(0, p->offset + p->file_numel, p->numel - p->file_numel).fill_(100.0);
    }
    EXPECT_NEAR(m.mean_loss(x, y).item<double>(), loss.item<double>(), 1e-6);
  }
}

TEST(ModelForward, Gpt2RejectsSequencesLongerThanThePositionTable) {
  Flats m(tiny_spec(ArchFamily::Gpt2), 1);
  EXPECT_THROW(m.mean_loss(random_tokens(1, 17, 1), random_tokens(1, 17, 2)), TrialError);
}

TEST(ModelForward, LoraStartsExactlyAtTheBaseModel) {
  // B = 0: the adapters add nothing, so the logits are the base model's, bit for bit.
  for (ArchFamily f : kFamilies) {
    auto base = make_dense_gpt(tiny_spec(f), seed_init(5), at::kCPU, Precision::F32, nullptr);
    auto lora = make_dense_gpt(with_lora(tiny_spec(f)), seed_init(5), at::kCPU, Precision::F32, nullptr);
    const at::Tensor x = random_tokens(2, 16, 11);
    EXPECT_TRUE(at::equal(base->forward_logits(x), lora->forward_logits(x))) << arch_family_name(f);
  }
}

}  // namespace
}  // namespace mpitune
