// Which processes hand over from the torch-free mpitune to mpitune-torch (needs_torch), the
// launcher's rank before MPI starts, and the line a missing mpitune-torch gives.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "mpitune/runtime/torch_hand_over.hpp"
#include "support/cli_support.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

class NeedsTorch : public ::testing::Test {
 protected:
  testing::TempDir dir{"mpitune-handover"};
  std::string synthetic, gpt;

  void SetUp() override {
    synthetic = dir.file("s.ini");
    gpt = dir.file("g.ini");
    testing::write_file(synthetic, "[experiment]\ntrainable = synthetic\n[space]\nx = uniform(0, 1)\n[scheduler]\ntype = fifo\nmax_t = 2\n");
    testing::write_file(gpt, "[experiment]\ntrainable = gpt\n[space]\nlr = loguniform(1e-4, 1e-2)\n[scheduler]\ntype = fifo\nmax_t = 2\n");
  }
};

TEST_F(NeedsTorch, ModelCommandsAlways) {
  EXPECT_TRUE(needs_torch({"eval", "--model", "m"}, std::nullopt, false));
  EXPECT_TRUE(needs_torch({"export", "r.h5", "--trial", "0"}, 0, false));
  EXPECT_TRUE(needs_torch({"eval", "--help"}, 3, false));
}

TEST_F(NeedsTorch, TorchFreeCommandsNever) {
  for (const char* cmd : {"report", "status", "simulate", "tokenize", "train-tokenizer", "--help", "--version", "bogus"})
    EXPECT_FALSE(needs_torch({cmd}, 1, true)) << cmd;
  EXPECT_FALSE(needs_torch({}, 1, true));
}

TEST_F(NeedsTorch, ValidateOnlyWithACudaLibtorch) {
  EXPECT_FALSE(needs_torch({"validate", "--config", gpt}, std::nullopt, false));
  EXPECT_TRUE(needs_torch({"validate", "--config", gpt}, std::nullopt, true));
}

TEST_F(NeedsTorch, SyntheticRunStaysOnEveryRank) {
  for (std::optional<int> rank : {std::optional<int>(), std::optional<int>(0), std::optional<int>(7)})
    EXPECT_FALSE(needs_torch({"run", "--config", synthetic, "--set", "experiment.max_trials=3"}, rank, true));
  // A gpt config made synthetic by an override, in the --set=... spelling too.
  EXPECT_FALSE(needs_torch({"run", "-c", gpt, "--set=experiment.trainable=synthetic", "--set", "space.x=uniform(0, 1)"}, 1, false));
}

TEST_F(NeedsTorch, GptRunSendsWorkersOnly) {
  EXPECT_TRUE(needs_torch({"run", "--config", gpt}, 1, false));
  EXPECT_TRUE(needs_torch({"run", "--config=" + gpt, "-q"}, std::nullopt, false));  // no launcher rank: safe side
  EXPECT_FALSE(needs_torch({"run", "--config", gpt}, 0, false));                   // rank 0 counts, never trains
  EXPECT_TRUE(needs_torch({"run", "--config", gpt}, 0, true));                     // ... unless only torch knows CUDA
  EXPECT_TRUE(needs_torch({"run"}, 2, false));                                     // the embedded default is a gpt
}

TEST_F(NeedsTorch, WhatMpituneReportsItselfStays) {
  // Bad flags and bad configs: mpitune reports them as before (no libtorch loaded for an error).
  EXPECT_FALSE(needs_torch({"run", "--config", gpt, "--no-such-flag"}, 1, false));
  EXPECT_FALSE(needs_torch({"run", "--config", gpt, "--set", "train.lrr=0.1"}, 1, false));
  EXPECT_FALSE(needs_torch({"run", "--help"}, 1, false));
  EXPECT_FALSE(needs_torch({"run", "--print-default-config"}, 1, false));
}

TEST_F(NeedsTorch, WhatThisRankCannotReadGoes) {
  // A config file this rank cannot see (rank 0 may, and broadcast a gpt config), and a resumed
  // file's own config: not read here, so the safe side.
  EXPECT_TRUE(needs_torch({"run", "--config", dir.file("absent.ini")}, 1, false));
  EXPECT_TRUE(needs_torch({"run", "--resume", dir.file("r.h5")}, 1, false));
  EXPECT_FALSE(needs_torch({"run", "--config", synthetic, "--resume", dir.file("r.h5")}, 1, false));
}

TEST(LauncherRank, FirstVariableThatIsSet) {
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) unsetenv(v);
  EXPECT_EQ(launcher_rank(), std::nullopt);
  setenv("SLURM_PROCID", "0", 1);  // the batch step's, under an mpirun inside sbatch
  EXPECT_EQ(launcher_rank(), 0);
  setenv("OMPI_COMM_WORLD_RANK", "5", 1);
  EXPECT_EQ(launcher_rank(), 5);
  setenv("OMPI_COMM_WORLD_RANK", "x", 1);  // unreadable: the next one
  EXPECT_EQ(launcher_rank(), 0);
  for (const char* v : {"OMPI_COMM_WORLD_RANK", "SLURM_PROCID"}) unsetenv(v);
}

TEST(TorchSibling, MissingOneIsOneLineAndExitCode2) {
  testing::TempDir dir{"mpitune-alone"};
  const std::string alone = dir.file("mpitune");
  std::filesystem::copy_file(MPITUNE_EXE, alone);
  std::filesystem::permissions(alone, std::filesystem::perms::owner_all);
  const testing::Outcome o = testing::run_shell(alone + " eval --help");
  EXPECT_EQ(o.code, 2) << o.out;
  const auto lines = testing::lines_starting(o.out, "mpitune:");
  ASSERT_EQ(lines.size(), 1u) << o.out;
  EXPECT_NE(lines[0].find("this command needs mpitune-torch next to " + alone), std::string::npos) << lines[0];
  // What needs no torch still works without it.
  EXPECT_EQ(testing::run_shell(alone + " --version").code, 0);
}

}  // namespace
}  // namespace mpitune
