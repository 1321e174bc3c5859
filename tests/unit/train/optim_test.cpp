// AdamW against libtorch's own torch::optim::AdamW, slicing for shards, the LR schedule and
// global-norm clipping.
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>

#include <cmath>

#include "mpitune/train/optim.hpp"

namespace mpitune {
namespace {

// A 4x5 weight (decayed) and a 7-element bias (not decayed), as two param groups of torch's
// AdamW and as one flat buffer (weight first, as gpt_layout orders them) for ours.
struct AdamWCase {
  at::Tensor weight = at::randn({4, 5}, at::TensorOptions().dtype(at::kFloat));
  at::Tensor bias = at::randn({7}, at::TensorOptions().dtype(at::kFloat));
  std::vector<at::Tensor> grads;  // one flat gradient (27 elements) per step
  std::vector<double> lrs{1e-2, 3e-2, 2e-2, 5e-3, 1e-2, 4e-2};

  AdamWCase() {
    for (size_t s = 0; s < lrs.size(); ++s) grads.push_back(at::randn({27}) * static_cast<double>(s + 1));
  }
};

const AdamWOptions kOpts{/*beta1=*/0.9, /*beta2=*/0.95, /*eps=*/1e-8, /*weight_decay=*/0.1};

// The reference: torch::optim::AdamW with weight decay on the weight group only.
at::Tensor torch_adamw(const AdamWCase& c) {
  at::Tensor w = c.weight.clone().requires_grad_(true);
  at::Tensor b = c.bias.clone().requires_grad_(true);
  auto options = [](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(1e-3).betas({kOpts.beta1, kOpts.beta2}).eps(kOpts.eps).weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<at::Tensor>{w}, options(kOpts.weight_decay));
  groups.emplace_back(std::vector<at::Tensor>{b}, options(0.0));
  torch::optim::AdamW opt(groups, torch::optim::AdamWOptions(1e-3));
  for (size_t s = 0; s < c.lrs.size(); ++s) {
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(c.lrs[s]);
    w.mutable_grad() = c.grads[s].narrow(0, 0, 20).view({4, 5}).clone();
    b.mutable_grad() = c.grads[s].narrow(0, 20, 7).clone();
    opt.step();
  }
  return at::cat({w.detach().flatten(), b.detach()});
}

TEST(AdamW, MatchesTorchAdamWWithDecayOnWeightsOnly) {
  at::manual_seed(5);
  const AdamWCase c;
  const at::Tensor expected = torch_adamw(c);
  at::Tensor p = at::cat({c.weight.flatten(), c.bias});
  at::Tensor m = at::zeros({27}), v = at::zeros({27});
  for (size_t s = 0; s < c.lrs.size(); ++s)
    adamw_update_slice(p, c.grads[s], m, v, static_cast<int64_t>(s + 1), c.lrs[s], kOpts, 0, 20);
  // Bit for bit: the same tensor ops in the same order.
  EXPECT_TRUE(at::equal(p, expected)) << "max diff " << (p - expected).abs().max().item<double>();
  EXPECT_FALSE(at::allclose(p, at::cat({c.weight.flatten(), c.bias})));  // it did move
}

TEST(AdamW, ShardSlicesGiveTheSameUpdateAsTheWholeBuffer) {
  at::manual_seed(6);
  const AdamWCase c;
  at::Tensor whole = at::cat({c.weight.flatten(), c.bias});
  at::Tensor m = at::zeros({27}), v = at::zeros({27});
  at::Tensor sliced = whole.clone();
  at::Tensor ms = at::zeros({27}), vs = at::zeros({27});
  // Three shards [0,9) [9,18) [18,27); the last straddles the decay boundary at 20.
  const int64_t cuts[] = {0, 9, 18, 27};
  for (size_t s = 0; s < c.lrs.size(); ++s) {
    const auto step = static_cast<int64_t>(s + 1);
    adamw_update_slice(whole, c.grads[s], m, v, step, c.lrs[s], kOpts, 0, 20);
    for (int k = 0; k < 3; ++k) {
      const int64_t b = cuts[k], n = cuts[k + 1] - cuts[k];
      at::Tensor p = sliced.narrow(0, b, n), mm = ms.narrow(0, b, n), vv = vs.narrow(0, b, n);
      adamw_update_slice(p, c.grads[s].narrow(0, b, n), mm, vv, step, c.lrs[s], kOpts, b, 20);
    }
  }
  EXPECT_TRUE(at::equal(whole, sliced));
}

TEST(AdamW, DecayRangesSplitASliceAtTheDecayBoundary) {
  auto r = decay_ranges(10, 30, 20);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].offset, 0);
  EXPECT_EQ(r[0].length, 10);
  EXPECT_TRUE(r[0].decay);
  EXPECT_EQ(r[1].offset, 10);
  EXPECT_EQ(r[1].length, 10);
  EXPECT_FALSE(r[1].decay);
  r = decay_ranges(25, 30, 20);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].decay);
  r = decay_ranges(0, 15, 20);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].decay);
  EXPECT_EQ(r[0].length, 15);
}

TEST(LearningRate, LinearWarmupThenCosineToTheFloor) {
  const double lr = 1e-3;
  auto at_step = [&](int64_t s) { return learning_rate(s, lr, 10, 110, 0.1); };
  EXPECT_DOUBLE_EQ(at_step(0), 1e-4);
  EXPECT_DOUBLE_EQ(at_step(4), 5e-4);
  EXPECT_DOUBLE_EQ(at_step(9), 1e-3);
  EXPECT_DOUBLE_EQ(at_step(10), 1e-3);             // cosine starts at the peak
  EXPECT_NEAR(at_step(60), 1e-4 + 0.5 * 9e-4, 1e-15);  // half way down
  EXPECT_NEAR(at_step(35), 1e-4 + 0.5 * 9e-4 * (1 + std::cos(M_PI / 4)), 1e-15);
  EXPECT_DOUBLE_EQ(at_step(110), 1e-4);
  EXPECT_DOUBLE_EQ(at_step(500), 1e-4);            // held after the budget
  for (int64_t s = 10; s < 110; ++s) EXPECT_GE(at_step(s), at_step(s + 1));
  EXPECT_DOUBLE_EQ(learning_rate(0, lr, 0, 100, 0.1), lr);     // no warmup
  EXPECT_DOUBLE_EQ(learning_rate(20, lr, 10, 5, 0.5), 5e-4);  // budget inside warmup
}

TEST(Clipping, FactorFollowsClipGradNorm) {
  const at::Tensor g = at::tensor({3.0f, 4.0f});  // norm 5
  const at::Tensor sq = sum_of_squares(g);
  EXPECT_FLOAT_EQ(sq.item<float>(), 25.0f);
  EXPECT_NEAR(clip_factor(sq, 1.0).item<double>(), 1.0 / (5.0 + 1e-6), 1e-7);
  EXPECT_EQ(clip_factor(sq, 10.0).item<double>(), 1.0);  // under the limit: untouched
  EXPECT_EQ(clip_factor(sq, 0.0).item<double>(), 1.0);   // clipping off
  EXPECT_FLOAT_EQ(sum_of_squares(at::tensor({1.0f, 2.0f}).to(at::kBFloat16)).item<float>(), 5.0f);
  const at::Tensor clipped = g * clip_factor(sq, 1.0);
  EXPECT_NEAR(std::sqrt(sum_of_squares(clipped).item<double>()), 1.0, 1e-5);
}

}  // namespace
}  // namespace mpitune
