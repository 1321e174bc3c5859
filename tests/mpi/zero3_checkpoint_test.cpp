// Sharded checkpoints under mpirun -np 4: a trial saved at step k by a group and loaded into a
// fresh group continues with the same losses as the uninterrupted run (groups of 2 and of 1),
// and a checkpoint of one group size cannot be loaded by a group of another size.
#include <gtest/gtest.h>

#include "mpitune/core/error.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_trainable.hpp"
#include "unit/train/train_test_config.hpp"
#include "support/mpi_support.hpp"

namespace mpitune {
namespace {

class Zero3Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    set_compute_threads(1);
    testing::write_file(text_.file("toy.txt"), testing::toy_text(30000));
  }
  ExperimentConfig config() {
    return testing::tiny_gpt_config(text_.file("toy.txt"), "[model]\nn_layer = 2\n[train]\nprecision = bf16\n");
  }
  testing::TempDir text_;
  testing::SharedTempDir shared_;
};

std::vector<double> losses(Trainable& t, int steps) {
  std::vector<double> out;
  for (int i = 0; i < steps; ++i) out.push_back(t.train_step().loss);
  return out;
}

TEST_F(Zero3Checkpoint, SaveAtStepKLoadIntoAFreshGroupAndContinueExactly) {
  for (int g : {2, 1}) {
    if (testing::world_size() % g) continue;
    testing::WorldGroups groups(g);
    const std::string dir =
        shared_.file("g" + std::to_string(g) + "-group" + std::to_string(testing::world_rank() / g));
    HParams hp;
    hp.set("lr", 0.004);
    std::vector<double> uninterrupted, resumed;
    double eval_a = 0, eval_b = 0;
    {
      auto t = make_gpt_trainable(config(), groups.group());
      t->start(2, hp, 77, 12);
      losses(*t, 5);
      t->save_checkpoint(dir);
      uninterrupted = losses(*t, 5);
      eval_a = t->evaluate();
    }
    {
      testing::WorldGroups fresh(g);  // a new communicator and Collectives, as a new job has
      auto t = make_gpt_trainable(config(), fresh.group());
      t->load_checkpoint(dir, 2, hp);
      EXPECT_EQ(t->step(), 5);
      resumed = losses(*t, 5);
      eval_b = t->evaluate();
    }
    EXPECT_EQ(resumed, uninterrupted) << "G = " << g;
    EXPECT_EQ(eval_b, eval_a) << "G = " << g;
    if (testing::world_rank() == 0)
      std::printf("\nG = %d: steps 6-10 uninterrupted %.6f %.6f %.6f %.6f %.6f | resumed %.6f %.6f %.6f %.6f %.6f\n", g,
                  uninterrupted[0], uninterrupted[1], uninterrupted[2], uninterrupted[3], uninterrupted[4],
                  resumed[0], resumed[1], resumed[2], resumed[3], resumed[4]);
  }
}

TEST_F(Zero3Checkpoint, AnotherGroupSizeIsRefusedOnEveryRank) {
  ASSERT_EQ(testing::world_size(), 4) << "registered with mpirun -np 4";
  const std::string dir = shared_.file("pairs-group" + std::to_string(testing::world_rank() / 2));
  {
    testing::WorldGroups pairs(2);
    auto t = make_gpt_trainable(config(), pairs.group());
    t->start(1, HParams{}, 5, 10);
    losses(*t, 1);
    t->save_checkpoint(dir);
  }
  testing::WorldGroups all(4);
  auto t = make_gpt_trainable(config(), all.group());
  try {
    t->load_checkpoint(shared_.file("pairs-group0"), 1, HParams{});
    ADD_FAILURE() << "a group of 4 loaded a checkpoint of a group of 2";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "experiment.group_size");
    EXPECT_NE(std::string(e.what()).find("written by a group of 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpitune
