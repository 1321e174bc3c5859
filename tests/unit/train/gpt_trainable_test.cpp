// The GPT trainable end to end on one rank: learning, reproducibility, accumulation, bf16,
// step results and trial errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "mpitune/core/error.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_trainable.hpp"
#include "mpitune/train/optim.hpp"
#include "support/temp_dir.hpp"
#include "train_test_config.hpp"

namespace mpitune {
namespace {

using testing::TempDir;

class GptTrainableTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::write_file(dir_.file("toy.txt"), testing::toy_text(20000)); }
  ExperimentConfig config(const std::string& extra = "") {
    return testing::tiny_gpt_config(dir_.file("toy.txt"), extra);
  }
  TempDir dir_;
};

std::vector<double> train_losses(Trainable& t, int steps) {
  std::vector<double> out;
  for (int i = 0; i < steps; ++i) out.push_back(t.train_step().loss);
  return out;
}

TEST_F(GptTrainableTest, LossFallsOnASmallCorpus) {
  auto t = make_gpt_trainable(config(), nullptr);
  t->start(1, HParams{}, 11, 40);
  const double before = t->evaluate();
  EXPECT_NEAR(before, std::log(256.0), 0.15);
  const auto losses = train_losses(*t, 40);
  EXPECT_NEAR(losses.front(), std::log(256.0), 0.15);  // measured before the first update
  const double after = t->evaluate();
  EXPECT_LT(after, before - 2.0) << "eval loss " << before << " -> " << after;
  EXPECT_LT(losses.back(), losses.front() - 2.0);
  EXPECT_EQ(t->step(), 40);
}

TEST_F(GptTrainableTest, PromptCompletionDataCountsTheLossOnTheCompletionOnly) {
  // Random prompts, always the same completion: a model learns the completion quickly, so a
  // loss that counts only completion tokens falls far below what the random prompts allow.
  std::string jsonl;
  uint64_t x = 7;
  for (int i = 0; i < 400; ++i) {
    std::string prompt;
    for (int c = 0; c < 24; ++c) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      prompt += static_cast<char>('a' + (x >> 33) % 26);
    }
    jsonl += R"({"prompt": ")" + prompt + R"(?", "completion": " yes, that is right.\n"})" + "\n";
  }
  testing::write_file(dir_.file("qa.jsonl"), jsonl);
  auto t = make_gpt_trainable(testing::tiny_gpt_config(dir_.file("qa.jsonl")), nullptr);
  t->start(1, HParams{}, 5, 80);
  const double before = t->evaluate();
  EXPECT_NEAR(before, std::log(256.0), 0.2);
  train_losses(*t, 80);
  const double after = t->evaluate();
  // Counting the prompts too, a perfect model could not go below ~24/44 x ln 26 = 1.8 nat.
  EXPECT_LT(after, 0.6) << "eval loss " << before << " -> " << after;
}

TEST_F(GptTrainableTest, LossFallsOnTheFortunesCorpus) {
  ASSERT_TRUE(std::filesystem::exists(testing::kFortunes)) << "install the Debian package fortunes (mpi_scripts/install_deps.sh)";
  auto t = make_gpt_trainable(testing::tiny_gpt_config(testing::kFortunes), nullptr);
  t->start(1, HParams{}, 3, 40);
  const double before = t->evaluate();
  train_losses(*t, 40);
  const double after = t->evaluate();
  EXPECT_LT(after, before - 1.5) << "eval loss " << before << " -> " << after;
}

TEST_F(GptTrainableTest, SameSeedIsBitIdenticalAndAnotherSeedDiffers) {
  auto run = [&](uint64_t seed) {
    auto t = make_gpt_trainable(config(), nullptr);
    t->start(1, HParams{}, seed, 10);
    auto losses = train_losses(*t, 3);
    losses.push_back(t->evaluate());
    return losses;
  };
  const auto a = run(5), b = run(5), c = run(6);
  EXPECT_EQ(a, b);  // exact: same weights, same batches, same ops
  EXPECT_NE(a.back(), c.back());
  EXPECT_NE(a.front(), c.front());
}

TEST_F(GptTrainableTest, RestartingATrialStartsAfresh) {
  auto t = make_gpt_trainable(config(), nullptr);
  t->start(1, HParams{}, 5, 10);
  const auto first = train_losses(*t, 2);
  t->start(2, HParams{}, 5, 10);
  EXPECT_EQ(t->step(), 0);
  EXPECT_EQ(train_losses(*t, 2), first);
}

TEST_F(GptTrainableTest, AccumulationGivesTheSameStepsAsOneBigBatch) {
  auto whole = make_gpt_trainable(config(), nullptr);
  auto split = make_gpt_trainable(config("[train]\naccumulation = 4\n"), nullptr);
  whole->start(1, HParams{}, 9, 10);
  split->start(1, HParams{}, 9, 10);
  for (int i = 0; i < 4; ++i) {
    const double a = whole->train_step().loss, b = split->train_step().loss;
    EXPECT_NEAR(a, b, 1e-5 * std::fabs(a)) << "step " << i;
  }
  EXPECT_NEAR(whole->evaluate(), split->evaluate(), 1e-4);
}

TEST_F(GptTrainableTest, StepResultReportsTheScheduleAndTokens) {
  auto t = make_gpt_trainable(config(), nullptr);
  t->start(1, HParams{}, 2, 20);
  for (int64_t s = 0; s < 7; ++s) {
    const StepResult r = t->train_step();
    EXPECT_DOUBLE_EQ(r.lr, learning_rate(s, 0.01, 5, 20, 0.1));
    EXPECT_EQ(r.tokens, 8 * 32);
    EXPECT_EQ(r.loss_scale, 1.0);
    EXPECT_FALSE(r.skipped);
  }
}

TEST_F(GptTrainableTest, HyperparametersOverrideTheBaseConfig) {
  auto t = make_gpt_trainable(config(), nullptr);
  HParams hp;
  hp.set("lr", 0.002);
  hp.set("batch_size", 4);
  hp.set("seq_len", 16);
  t->start(1, hp, 2, 20);
  const StepResult r = t->train_step();
  EXPECT_DOUBLE_EQ(r.lr, learning_rate(0, 0.002, 5, 20, 0.1));
  EXPECT_EQ(r.tokens, 4 * 16);
  EXPECT_TRUE(std::isfinite(t->evaluate()));
}

TEST_F(GptTrainableTest, Bf16TracksFp32) {
  // bf16 keeps 8 bits of mantissa (relative error ~0.4% per rounding) while the master weights,
  // the optimizer and the loss stay fp32: measured differences are ~0.002 nat over 8 steps, so
  // 0.02 nat (about 0.4% of the loss) leaves a 10x margin and still fails on a real error.
  auto f32 = make_gpt_trainable(config(), nullptr);
  auto b16 = make_gpt_trainable(config("[train]\nprecision = bf16\n"), nullptr);
  f32->start(1, HParams{}, 4, 20);
  b16->start(1, HParams{}, 4, 20);
  const auto a = train_losses(*f32, 8), b = train_losses(*b16, 8);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 0.02) << "step " << i;
  EXPECT_LT(b.back(), b.front() - 0.5);  // bf16 learns too
  EXPECT_NEAR(f32->evaluate(), b16->evaluate(), 0.02);
}

TEST_F(GptTrainableTest, BadHyperparametersAreTrialErrors) {
  auto t = make_gpt_trainable(config(), nullptr);
  HParams hp;
  hp.set("n_head", 3);  // does not divide d_model = 32
  try {
    t->start(1, hp, 1, 10);
    FAIL() << "no error";
  } catch (const TrialError& e) {
    EXPECT_NE(std::string(e.what()).find("n_head"), std::string::npos) << e.what();
  }
  HParams too_long;
  too_long.set("seq_len", 100000);
  EXPECT_THROW(t->start(2, too_long, 1, 10), TrialError);
  EXPECT_THROW(t->train_step(), InfraError);  // no trial is running
}

TEST_F(GptTrainableTest, ReleaseFreesTheTrial) {
  auto t = make_gpt_trainable(config(), nullptr);
  t->start(1, HParams{}, 1, 10);
  t->train_step();
  t->release();
  EXPECT_EQ(t->step(), 0);
  EXPECT_THROW(t->evaluate(), InfraError);
}

}  // namespace
}  // namespace mpitune
