// The GPT layout, its initialisation and the functional forward (attention causality, the
// initial loss, gradients reaching the flat unit buffers).
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/train/gpt.hpp"

namespace mpitune {
namespace {

GptShape small_shape() {
  GptShape s;
  s.n_layer = 2;
  s.n_head = 4;
  s.d_model = 32;
  s.seq_len = 16;
  return s;
}

struct Model {
  std::vector<UnitLayout> layout;
  std::vector<at::Tensor> flats;
  RootParams root;
  std::vector<BlockParams> blocks;

  Model(const GptShape& s, uint64_t seed, int64_t padding = 0) : layout(gpt_layout(s)) {
    for (size_t u = 0; u < layout.size(); ++u) {
      at::Tensor f = at::cat({init_unit(layout[u], s.n_layer, derive_seed(seed, "init", u)), at::zeros({padding})});
      flats.push_back(f.requires_grad_(true));
    }
    root = RootParams::from(unit_views(flats[0], layout[0]));
    for (size_t u = 1; u < layout.size(); ++u) blocks.push_back(BlockParams::from(unit_views(flats[u], layout[u])));
  }
};

at::Tensor random_tokens(int64_t b, int64_t t, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(256, {b, t}, at::TensorOptions().dtype(at::kLong));
}

TEST(GptLayout, ParameterCountIsGpt2s) {
  const GptShape s = small_shape();
  const int64_t d = s.d_model, l = s.n_layer;
  // Per block 12 d^2 + 13 d; embeddings V d + T d; final LayerNorm 2 d.
  EXPECT_EQ(count_parameters(gpt_layout(s)), 12 * l * d * d + 13 * l * d + s.vocab * d + s.seq_len * d + 2 * d);
}

TEST(GptLayout, DecayedParametersAreOnePrefixOfEveryUnit) {
  for (const auto& u : gpt_layout(small_shape())) {
    int64_t decayed = 0, offset = 0;
    bool seen_undecayed = false;
    for (const auto& p : u.params) {
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
    EXPECT_EQ(u.decay_numel, decayed) << u.name;
    EXPECT_EQ(u.numel, offset) << u.name;
  }
}

TEST(GptInit, SeededAndGpt2Scaled) {
  const GptShape s = small_shape();
  const auto layout = gpt_layout(s);
  const UnitLayout& block = layout[1];
  const at::Tensor a = init_unit(block, s.n_layer, 7);
  EXPECT_TRUE(at::equal(a, init_unit(block, s.n_layer, 7)));
  EXPECT_FALSE(at::equal(a, init_unit(block, s.n_layer, 8)));
  const auto v = unit_views(a, block);
  EXPECT_NEAR(v[kQkvWeight].std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(v[kFcWeight].std().item<double>(), 0.02, 0.002);
  const double residual = 0.02 / std::sqrt(2.0 * s.n_layer);
  EXPECT_NEAR(v[kOutWeight].std().item<double>(), residual, residual * 0.1);
  EXPECT_NEAR(v[kProjWeight].std().item<double>(), residual, residual * 0.15);
  EXPECT_TRUE(at::equal(v[kLn1Weight], at::ones({s.d_model})));
  EXPECT_TRUE(at::equal(v[kQkvBias], at::zeros({3 * s.d_model})));
}

TEST(GptForward, InitialLossIsAboutLn256) {
  Model m(small_shape(), 1);
  const at::Tensor tokens = random_tokens(4, 16, 1);
  const double loss = gpt_loss(m.root, m.blocks, 4, tokens, random_tokens(4, 16, 2)).item<double>();
  EXPECT_NEAR(loss, std::log(256.0), 0.1);
}

TEST(GptForward, AttentionIsCausal) {
  Model m(small_shape(), 1);
  c10::NoGradGuard no_grad;
  const at::Tensor a = random_tokens(2, 16, 3);
  at::Tensor b = a.clone();
  b.select(1, 10).fill_(7);  // change position 10 only
  auto run = [&](const at::Tensor& t) {
    at::Tensor x = gpt_embed(m.root, t);
    for (const auto& blk : m.blocks) x = gpt_block(blk, x, 4);
    return x;
  };
  const at::Tensor xa = run(a), xb = run(b);
  EXPECT_TRUE(at::allclose(xa.narrow(1, 0, 10), xb.narrow(1, 0, 10), 1e-6, 1e-6));
  EXPECT_FALSE(at::allclose(xa.narrow(1, 10, 6), xb.narrow(1, 10, 6), 1e-6, 1e-6));
}

TEST(GptForward, CausalAttentionMatchesAnExplicitSoftmax) {
  at::manual_seed(4);
  const at::Tensor q = at::randn({2, 3, 5, 8}), k = at::randn({2, 3, 5, 8}), v = at::randn({2, 3, 5, 8});
  const at::Tensor y = causal_attention(q, k, v);
  for (int64_t t = 0; t < 5; ++t) {
    const at::Tensor keys = k.narrow(2, 0, t + 1), values = v.narrow(2, 0, t + 1);
    const at::Tensor w = at::softmax(at::matmul(q.narrow(2, t, 1), keys.transpose(-2, -1)) / std::sqrt(8.0), -1);
    EXPECT_TRUE(at::allclose(y.narrow(2, t, 1), at::matmul(w, values), 1e-5, 1e-6)) << "position " << t;
  }
}

TEST(GptForward, GradientsReachEveryParameterOfTheFlatBuffersAndSkipPadding) {
  Model m(small_shape(), 1, /*padding=*/5);
  const at::Tensor loss = gpt_loss(m.root, m.blocks, 4, random_tokens(2, 16, 5), random_tokens(2, 16, 6));
  const auto grads = torch::autograd::grad({loss}, m.flats);
  for (size_t u = 0; u < m.layout.size(); ++u) {
    ASSERT_EQ(grads[u].numel(), m.layout[u].numel + 5);
    EXPECT_TRUE(at::equal(grads[u].narrow(0, m.layout[u].numel, 5), at::zeros({5}))) << u;
    for (const auto& p : m.layout[u].params)
      EXPECT_GT(grads[u].narrow(0, p.offset, p.numel).abs().sum().item<double>(), 0) << p.name;
  }
}

TEST(GptForward, PaddedTableRowsAreNeitherClassesNorTrained) {
  GptShape s = small_shape();
  s.vocab = 300;  // the table gets 320 rows (a multiple of 64)
  EXPECT_EQ(s.table_rows(), 320);
  const auto layout = gpt_layout(s);
  EXPECT_EQ(layout[0].params[kWte].shape, (std::vector<int64_t>{320, s.d_model}));
  at::Tensor flat = init_unit(layout[0], s.n_layer, 3);
  std::vector<at::Tensor> blocks_flat;
  std::vector<BlockParams> blocks;
  for (size_t u = 1; u < layout.size(); ++u) blocks_flat.push_back(init_unit(layout[u], s.n_layer, u));
  for (size_t u = 1; u < layout.size(); ++u) blocks.push_back(BlockParams::from(unit_views(blocks_flat[u - 1], layout[u])));
  at::manual_seed(9);
  const at::Tensor x = at::randint(300, {2, 16}, at::TensorOptions().dtype(at::kLong));
  const at::Tensor y = at::randint(300, {2, 16}, at::TensorOptions().dtype(at::kLong));
  flat.requires_grad_(true);
  const at::Tensor loss = gpt_loss(RootParams::from(unit_views(flat, layout[0]), 300), blocks, 4, x, y);
  EXPECT_NEAR(loss.item<double>(), std::log(300.0), 0.1);  // 300 classes, not 320
  // Huge values in the padding rows change nothing: they are not classes.
  at::Tensor loud = flat.detach().clone();
  unit_views(loud, layout[0])[kWte].narrow(0, 300, 20).fill_(100.0);
  const at::Tensor same = gpt_loss(RootParams::from(unit_views(loud, layout[0]), 300), blocks, 4, x, y);
  EXPECT_NEAR(same.item<double>(), loss.item<double>(), 1e-6);
  const at::Tensor g = torch::autograd::grad({loss}, {flat})[0];
  EXPECT_EQ(unit_views(g, layout[0])[kWte].narrow(0, 300, 20).abs().sum().item<double>(), 0.0);
}

TEST(GptForward, RejectsSequencesLongerThanThePositionTable) {
  Model m(small_shape(), 1);
  EXPECT_THROW(gpt_loss(m.root, m.blocks, 4, random_tokens(1, 17, 1), random_tokens(1, 17, 2)), TrialError);
}

}  // namespace
}  // namespace mpitune
