// mpitune run with ZeRO-3 groups end to end: mpirun -np 5 = the coordinator and two groups of
// two ranks running an ASHA experiment of the GPT trainable on the CPU.
#include <gtest/gtest.h>

#include <cmath>

#include "mpitune/runtime/run.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "unit/train/train_test_config.hpp"
#include "support/mpi_support.hpp"

namespace mpitune {
namespace {

TEST(Zero3Experiment, TwoGroupsOfTwoFinishAnAshaExperiment) {
  ASSERT_EQ(testing::world_size(), 5) << "registered with mpirun -np 5";
  testing::SharedTempDir dir;
  const std::string config = dir.file("asha.ini"), corpus = dir.file("toy.txt"), out = dir.file("zero3.h5");
  if (testing::world_rank() == 0) {
    testing::write_file(corpus, testing::toy_text(30000));
    testing::write_file(config, R"(
[experiment]
name = zero3-asha
seed = 5
max_trials = 6
group_size = 2
status_interval_s = 1000
[space]
lr = loguniform(1e-3, 1e-2)
batch_size = choice(4, 8)
[scheduler]
type = asha
max_t = 9
grace_period = 1
reduction_factor = 3
[model]
n_layer = 2
n_head = 2
d_model = 32
seq_len = 32
[data]
eval_batches = 2
document_separator = line
[train]
device = cpu
log_interval = 3
warmup_steps = 2
threads = 1
)");
  }
  MPI_Barrier(MPI_COMM_WORLD);
  RunRequest req;
  req.config_path = config;
  req.overrides = {"data.corpus=" + corpus, "experiment.output=" + out};
  req.quiet = true;
  ASSERT_EQ(run_experiment(req), 0);
  if (testing::world_rank() != 0) return;
  const ExperimentData d = read_hdf5_experiment(out);
  EXPECT_EQ(d.info.group_size, 2);
  ASSERT_EQ(d.groups.size(), 2u);
  for (const auto& g : d.groups) EXPECT_NE(g.ranks.find(','), std::string::npos) << g.ranks;  // two ranks each
  ASSERT_EQ(d.trials.size(), 6u);
  int completed = 0;
  for (const auto& t : d.trials) {
    EXPECT_TRUE(t.status == TrialStatus::Completed || t.status == TrialStatus::Stopped) << t.reason;
    completed += t.status == TrialStatus::Completed;
  }
  EXPECT_GE(completed, 1);
  for (const auto& m : d.metrics) {
    EXPECT_TRUE(std::isfinite(m.train_loss));
    if (std::isfinite(m.eval_loss)) {
      EXPECT_LT(m.eval_loss, std::log(256.0) + 0.5);
    }
  }
  EXPECT_EQ(d.summary.status, "finished");
  EXPECT_TRUE(std::isfinite(d.summary.best_metric));
}

}  // namespace
}  // namespace mpitune
