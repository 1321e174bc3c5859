// The GPT trainable on fake groups: the sharded trainable gives the dense trainable's losses
// for the same global batch, and its sharded checkpoints continue a trial exactly; with LoRA
// too, whose state holds only the adapters.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "mpitune/core/error.hpp"
#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/gpt_trainable.hpp"
#include "mpitune/train/optim.hpp"
#include "support/temp_dir.hpp"
#include "train_test_config.hpp"
#include "unit/comm/run_ranks.hpp"

namespace mpitune {
namespace {

using testing::run_ranks;

class ShardedTrainable : public ::testing::Test {
 protected:
  void SetUp() override { testing::write_file(dir_.file("toy.txt"), testing::toy_text(20000)); }
  ExperimentConfig config(const std::string& extra = "") {
    return testing::tiny_gpt_config(dir_.file("toy.txt"), extra);
  }
  testing::TempDir dir_;
};

std::vector<double> losses(Trainable& t, int steps) {
  std::vector<double> out;
  for (int i = 0; i < steps; ++i) out.push_back(t.train_step().loss);
  return out;
}

TEST_F(ShardedTrainable, TwoRanksGiveTheDenseLosses) {
  auto dense = make_gpt_trainable(config(), nullptr);
  dense->start(1, HParams{}, 4, 20);
  const auto ref = losses(*dense, 5);
  const double ref_eval = dense->evaluate();
  run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    auto t = make_gpt_trainable(config(), c);
    t->start(1, HParams{}, 4, 20);
    const auto got = losses(*t, 5);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-5 * ref[i]) << "step " << i;
    EXPECT_NEAR(t->evaluate(), ref_eval, 1e-5 * ref_eval);
  });
}

TEST_F(ShardedTrainable, CheckpointContinuesExactlyAndOnlyIntoTheSameGroupSize) {
  const std::string ckpt = dir_.file("ckpt/trial-1");
  std::mutex mu;
  std::vector<double> whole;
  run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    HParams hp;
    hp.set("lr", 0.005);
    auto t = make_gpt_trainable(config(), c);
    t->start(1, hp, 4, 20);
    losses(*t, 3);
    t->save_checkpoint(ckpt);
    const auto rest = losses(*t, 3);
    const double eval = t->evaluate();
    t.reset();

    auto fresh = make_gpt_trainable(config(), c);
    fresh->load_checkpoint(ckpt, 1, hp);
    EXPECT_EQ(fresh->step(), 3);
    EXPECT_EQ(losses(*fresh, 3), rest);  // bit for bit: weights, AdamW state, data position
    EXPECT_EQ(fresh->evaluate(), eval);
    std::lock_guard<std::mutex> lock(mu);
    whole = rest;
  });
  EXPECT_FALSE(whole.empty());

  // The manifest names the group and both files.
  const std::string manifest = testing::read_file(ckpt + "/manifest");
  EXPECT_NE(manifest.find("group_size = 2"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("file = rank-1.bin"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("step = 3"), std::string::npos) << manifest;

  // A group of another size cannot load it (one slice per rank): a ConfigError on every rank.
  for (int g : {1, 4}) {
    run_ranks(g, [&](std::shared_ptr<Collectives> c) {
      auto t = make_gpt_trainable(config(), c);
      try {
        t->load_checkpoint(ckpt, 1, HParams{});
        ADD_FAILURE() << "loaded a G = 2 checkpoint with G = " << g;
      } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "experiment.group_size");
        EXPECT_NE(std::string(e.what()).find("group_size = 2"), std::string::npos) << e.what();
      }
    });
  }

  // A damaged rank file: rank 1 detects it, and both ranks fail together.
  {
    std::fstream f(ckpt + "/rank-1.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x7f');
  }
  int failures = 0;
  run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    auto t = make_gpt_trainable(config(), c);
    try {
      t->load_checkpoint(ckpt, 1, HParams{});
    } catch (const InfraError& e) {
      std::lock_guard<std::mutex> lock(mu);
      ++failures;
      const std::string what = e.what();
      EXPECT_TRUE(c->rank() == 1 ? what.find("corrupt") != std::string::npos
                                 : what.find("another rank") != std::string::npos)
          << what;
    }
  });
  EXPECT_EQ(failures, 2);
}

TEST_F(ShardedTrainable, StateBytesMoveATrialAndRefuseAnotherShape) {
  run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    auto a = make_gpt_trainable(config(), c);
    a->start(3, HParams{}, 9, 20);
    losses(*a, 2);
    const std::vector<uint8_t> bytes = a->save_state();
    const auto rest = losses(*a, 2);

    auto b = make_gpt_trainable(config(), c);
    b->load_state(bytes, 8, HParams{});  // continued as another trial (a PBT clone)
    EXPECT_EQ(losses(*b, 2), rest);
    ASSERT_NE(gpt_model_of(*b), nullptr);
    EXPECT_EQ(gpt_model_of(*b)->optimizer_steps(), 4);

    HParams wider;
    wider.set("d_model", 64);
    EXPECT_THROW(b->load_state(bytes, 8, wider), TrialError);
  });
}

TEST_F(ShardedTrainable, UpdatedHyperparametersApplyFromTheNextStep) {
  run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    HParams hp;
    hp.set("lr", 0.01);
    auto t = make_gpt_trainable(config(), c);
    t->start(1, hp, 9, 20);
    t->train_step();
    HParams explored;
    explored.set("lr", 0.002);
    explored.set("batch_size", 4);
    t->update_hparams(explored);
    const StepResult r = t->train_step();
    EXPECT_DOUBLE_EQ(r.lr, learning_rate(1, 0.002, 5, 20, 0.1));
    EXPECT_EQ(r.tokens, 4 * 32);
    HParams shape;
    shape.set("n_layer", 3);
    EXPECT_THROW(t->update_hparams(shape), TrialError);
    HParams odd;
    odd.set("batch_size", 3);  // not a multiple of the group size
    EXPECT_THROW(t->update_hparams(odd), TrialError);
    EXPECT_EQ(t->step(), 2);
  });
}

TEST_F(ShardedTrainable, DenseTrainableCheckpointsToo) {
  const std::string ckpt = dir_.file("dense");
  auto t = make_gpt_trainable(config("[train]\nprecision = bf16\n"), nullptr);
  t->start(1, HParams{}, 2, 10);
  losses(*t, 2);
  t->save_checkpoint(ckpt);
  const auto rest = losses(*t, 2);
  auto fresh = make_gpt_trainable(config("[train]\nprecision = bf16\n"), nullptr);
  fresh->load_checkpoint(ckpt, 1, HParams{});
  EXPECT_EQ(losses(*fresh, 2), rest);
  // fp32 config, bf16 checkpoint: refused with both precisions named.
  auto f32 = make_gpt_trainable(config(), nullptr);
  try {
    f32->load_checkpoint(ckpt, 1, HParams{});
    FAIL() << "no error";
  } catch (const TrialError& e) {
    EXPECT_NE(std::string(e.what()).find("bf16"), std::string::npos) << e.what();
  }
}

// A scratch Llama-layout model with LoRA on every linear of its blocks.
const char* const kLora = "[model]\narchitecture = llama\nn_head = 4\nn_kv_head = 2\n[lora]\nrank = 4\ntargets = all-linear\n";

TEST_F(ShardedTrainable, LoraOnTwoRanksGivesTheDenseLosses) {
  auto dense = make_gpt_trainable(config(kLora), nullptr);
  dense->start(1, HParams{}, 4, 20);
  const auto ref = losses(*dense, 4);
  EXPECT_LT(ref.back(), ref.front());  // the adapters learn
  run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    auto t = make_gpt_trainable(config(kLora), c);
    t->start(1, HParams{}, 4, 20);
    const auto got = losses(*t, 4);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-5 * ref[i]) << "step " << i;
  });
}

TEST_F(ShardedTrainable, LoraCheckpointsHoldOnlyTheAdaptersAndContinueExactly) {
  const std::string lora = dir_.file("lora"), full = dir_.file("full");
  std::mutex mu;
  int64_t lora_bytes = 0, full_bytes = 0;
  run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    auto f = make_gpt_trainable(config("[model]\narchitecture = llama\nn_head = 4\nn_kv_head = 2\n"), c);
    f->start(1, HParams{}, 4, 20);
    losses(*f, 1);
    f->save_checkpoint(full);
    auto t = make_gpt_trainable(config(kLora), c);
    t->start(1, HParams{}, 4, 20);
    losses(*t, 2);
    t->save_checkpoint(lora);
    const auto rest = losses(*t, 2);
    auto fresh = make_gpt_trainable(config(kLora), c);
    fresh->load_checkpoint(lora, 1, HParams{});
    EXPECT_EQ(losses(*fresh, 2), rest);  // the frozen base comes back from the seed, the adapters from the file
    std::lock_guard<std::mutex> lock(mu);
    if (c->rank() == 0) {
      lora_bytes = static_cast<int64_t>(t->save_state().size());
      full_bytes = static_cast<int64_t>(f->save_state().size());
    }
  });
  const std::string manifest = testing::read_file(lora + "/manifest");
  EXPECT_NE(manifest.find("unit = h.0.lora"), std::string::npos) << manifest;
  EXPECT_EQ(manifest.find("unit = h.0 "), std::string::npos) << manifest;
  EXPECT_EQ(manifest.find("unit = root"), std::string::npos) << manifest;
  EXPECT_LT(lora_bytes * 4, full_bytes) << "LoRA state " << lora_bytes << " bytes, full " << full_bytes;
}

TEST_F(ShardedTrainable, LoraAlphaMayChangeDuringATrialItsRankMayNot) {
  auto t = make_gpt_trainable(config(kLora), nullptr);
  auto u = make_gpt_trainable(config(kLora), nullptr);
  HParams hp;
  hp.set("lora.alpha", 16.0);
  t->start(1, hp, 4, 20);
  u->start(1, hp, 4, 20);
  losses(*t, 2);
  losses(*u, 2);
  HParams louder;
  louder.set("lora.alpha", 64.0);
  u->update_hparams(louder);
  EXPECT_NE(losses(*t, 1), losses(*u, 1));  // the adapters' scale changed
  HParams rank;
  rank.set("lora.rank", 8);
  EXPECT_THROW(u->update_hparams(rank), TrialError);
}

}  // namespace
}  // namespace mpitune
