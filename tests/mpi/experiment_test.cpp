// Whole experiments under mpirun (3 or 5 ranks): run_experiment() on every rank, then rank 0
// reads the result file back and checks it.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "mpitune/runtime/run.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "support/mpi_support.hpp"

namespace mpitune {
namespace {

using testing::SharedTempDir;
using testing::world_rank;
using testing::world_size;

const char* kSyntheticConfig = R"(
[experiment]
name = synthetic-asha
seed = 11
max_trials = 16
trainable = synthetic
status_interval_s = 1000
[space]
lr = loguniform(1e-4, 1e-1)
wd = uniform(0, 1)
[scheduler]
type = asha
max_t = 27
grace_period = 1
[synthetic]
objective = learning_curve
noise = 0.05
step_cost_ms = 1
[train]
log_interval = 4
)";

// Runs an experiment from config text + overrides on every rank; returns the exit code.
int run_text(const std::string& text, const std::string& dir, std::vector<std::string> overrides) {
  const std::string path = dir + "/config.ini";
  if (world_rank() == 0) testing::write_file(path, text);
  MPI_Barrier(MPI_COMM_WORLD);
  RunRequest req;
  req.config_path = path;
  req.overrides = std::move(overrides);
  req.quiet = true;
  return run_experiment(req);
}

std::vector<std::string> trace(const ExperimentData& d) {
  std::vector<std::string> out;
  for (const auto& r : d.decisions)
    out.push_back(std::to_string(r.trial) + "@" + std::to_string(r.step) + ":" + r.action);
  return out;
}

TEST(Experiment, DeterministicAshaMakesTheSameDecisionsTwiceAndMatchesTheSimulator) {
  SharedTempDir dir;
  for (const char* name : {"a", "b"}) {
    ASSERT_EQ(run_text(kSyntheticConfig, dir.path(),
                       {"experiment.deterministic=true", "experiment.output=" + dir.file(name) + ".h5"}),
              0);
  }
  if (world_rank() != 0) return;
  const ExperimentData a = read_hdf5_experiment(dir.file("a.h5"));
  const ExperimentData b = read_hdf5_experiment(dir.file("b.h5"));
  ASSERT_EQ(a.trials.size(), 16u);
  EXPECT_EQ(trace(a), trace(b));
  int stopped = 0;
  for (const auto& t : a.trials) stopped += t.status == TrialStatus::Stopped;
  EXPECT_GT(stopped, 0);

  // The same experiment in the simulator (one virtual second a step) decides the same.
  IniFile ini = IniFile::parse(kSyntheticConfig);
  const ExperimentConfig cfg = parse_config(ini);
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = world_size() - 1;
  s.make_trainable = [&] { return make_synthetic_trainable(cfg); };
  const SimulationResult sim = simulate(s);
  EXPECT_EQ(trace(a), trace(sim.data));
}

TEST(Experiment, InjectedFailuresAreRecordedWhileTheOtherTrialsComplete) {
  SharedTempDir dir;
  ASSERT_EQ(run_text(kSyntheticConfig, dir.path(),
                     {"scheduler.type=fifo", "scheduler.max_t=6", "experiment.max_trials=6",
                      "faults.fail_trials=1,3", "faults.fail_at_step=2", "faults.fail_mode=throw",
                      "experiment.output=" + dir.file("f.h5")}),
            0);
  if (world_rank() != 0) return;
  const ExperimentData d = read_hdf5_experiment(dir.file("f.h5"));
  ASSERT_EQ(d.trials.size(), 6u);
  for (const auto& t : d.trials) {
    if (t.id == 1 || t.id == 3) {
      EXPECT_EQ(t.status, TrialStatus::Failed) << t.id;
      EXPECT_NE(t.reason.find("injected failure at step 2"), std::string::npos) << t.reason;
      EXPECT_EQ(t.last_step, 2);
    } else {
      EXPECT_EQ(t.status, TrialStatus::Completed) << t.id;
      EXPECT_EQ(t.last_step, 6);
    }
  }
  EXPECT_EQ(d.summary.status, "finished");
}

TEST(Experiment, EarlyStoppingAndTheFinalTestEvaluationRunOverMpi) {
  // Groups of every worker rank and groups of one: the final evaluation's agreement either way.
  for (const int G : {1, world_size() - 1}) {
    SharedTempDir dir;
    ASSERT_EQ(run_text(kSyntheticConfig, dir.path(),
                       {"experiment.group_size=" + std::to_string(G), "train.eval_interval=2",
                        "train.early_stop_patience=2", "train.early_stop_min_delta=0.05", "data.test_fraction=0.1",
                        "experiment.output=" + dir.file("e.h5")}),
              0);
    if (world_rank() != 0) continue;
    const ExperimentData d = read_hdf5_experiment(dir.file("e.h5"));
    int early = 0;
    for (const auto& t : d.trials) early += t.status == TrialStatus::EarlyStopped;
    int early_rows = 0;
    for (const auto& r : d.decisions) early_rows += r.action == "early_stop";
    EXPECT_GT(early, 0) << "G = " << G;
    EXPECT_EQ(early, early_rows) << "G = " << G;
    ASSERT_EQ(d.finals.size(), 1u) << "G = " << G;
    EXPECT_EQ(d.finals[0].label, "best");
    EXPECT_EQ(d.finals[0].trial, d.summary.best_trial);
    EXPECT_EQ(d.finals[0].test_documents, kSyntheticTestDocuments);
    EXPECT_EQ(static_cast<int>(d.final_documents.size()), kSyntheticTestDocuments);
    EXPECT_LE(d.finals[0].test_ci_low, d.finals[0].test_loss);
    EXPECT_GE(d.finals[0].test_ci_high, d.finals[0].test_loss);
    EXPECT_EQ(d.summary.status, "finished");
  }
}

TEST(Experiment, GroupsOfSeveralRanksRunTheProtocol) {
  // All workers in one group: exercises the leader's broadcast to its ranks and the agreement.
  SharedTempDir dir;
  const int G = world_size() - 1;
  ASSERT_EQ(run_text(kSyntheticConfig, dir.path(),
                     {"experiment.group_size=" + std::to_string(G), "experiment.max_trials=5",
                      "faults.fail_trials=2", "faults.fail_mode=throw",
                      "faults.fail_rank=" + std::to_string(G - 1), "experiment.output=" + dir.file("g.h5")}),
            0);
  if (world_rank() != 0) return;
  const ExperimentData d = read_hdf5_experiment(dir.file("g.h5"));
  ASSERT_EQ(d.trials.size(), 5u);
  EXPECT_EQ(d.info.group_size, G);
  ASSERT_EQ(d.groups.size(), 1u);
  EXPECT_EQ(d.trials[2].status, TrialStatus::Failed);
  // Only the group's last rank failed; the whole group agreed and reported its reason.
  EXPECT_NE(d.trials[2].reason.find("injected failure"), std::string::npos) << d.trials[2].reason;
  if (G > 1) {
    EXPECT_NE(d.trials[2].reason.find("rank " + std::to_string(G - 1)), std::string::npos);
  }
  for (const auto& t : d.trials) {
    if (t.id != 2) {
      EXPECT_TRUE(t.status == TrialStatus::Completed || t.status == TrialStatus::Stopped);
    }
  }
}

TEST(Experiment, BadInputEndsEveryRankWithCode2AndNoFile) {
  SharedTempDir dir;
  // World size that does not fit group_size, and an unknown key.
  EXPECT_EQ(run_text(kSyntheticConfig, dir.path(),
                     {"experiment.group_size=" + std::to_string(world_size()),
                      "experiment.output=" + dir.file("bad1.h5")}),
            2);
  EXPECT_EQ(run_text(kSyntheticConfig, dir.path(),
                     {"scheduler.max_tt=3", "experiment.output=" + dir.file("bad2.h5")}),
            2);
  if (world_rank() == 0) {
    EXPECT_FALSE(std::filesystem::exists(dir.file("bad1.h5")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("bad2.h5")));
  }
}

const char* kHyperbandConfig = R"(
[experiment]
name = synthetic-hb
seed = 4
max_trials = 1000
trainable = synthetic
status_interval_s = 1000
[space]
x1 = uniform(0, 1)
x2 = uniform(0, 1)
x3 = uniform(0, 1)
x4 = uniform(0, 1)
x5 = uniform(0, 1)
x6 = uniform(0, 1)
[scheduler]
type = hyperband
min_t = 1
max_t = 9
reduction_factor = 3
[synthetic]
objective = hartmann6
[train]
log_interval = 3
)";

TEST(Experiment, HyperbandPausesToCheckpointsAndResumesOnAnyGroup) {
  SharedTempDir dir;
  for (const char* name : {"a", "b"})
    ASSERT_EQ(run_text(kHyperbandConfig, dir.path(),
                       {"experiment.deterministic=true", "experiment.output=" + dir.file(name) + ".h5"}),
              0);
  if (world_rank() != 0) return;
  const ExperimentData a = read_hdf5_experiment(dir.file("a.h5"));
  const ExperimentData b = read_hdf5_experiment(dir.file("b.h5"));
  EXPECT_EQ(trace(a), trace(b));  // pause/resume on whichever group: still the seed's decisions
  int pauses = 0, resumes = 0;
  for (const auto& d : a.decisions) {
    pauses += d.action == "pause";
    resumes += d.action == "resume";
  }
  EXPECT_GT(pauses, 0);
  EXPECT_GT(resumes, 0);
  // A resumed trial goes on from its checkpointed step (steps only grow) ...
  std::map<TrialId, int64_t> last;
  for (const auto& m : a.metrics) {
    if (last.count(m.trial)) {
      EXPECT_GT(m.step, last[m.trial]) << "trial " << m.trial;
    }
    last[m.trial] = m.step;
  }
  // ... and no checkpoint is left once no trial can resume.
  EXPECT_FALSE(std::filesystem::exists(dir.file("a.h5.ckpt")));
  for (const auto& t : a.trials)
    EXPECT_TRUE(t.status == TrialStatus::Completed || t.status == TrialStatus::Stopped) << t.id;
}

TEST(Experiment, PbtClonesMoveStateRankToRankBetweenGroups) {
  SharedTempDir dir;
  const int G = (world_size() - 1) % 2 == 0 && world_size() > 3 ? 2 : 1;  // np 5: two groups of 2
  const std::string text = R"(
[experiment]
name = synthetic-pbt
seed = 2
trainable = synthetic
status_interval_s = 1000
[space]
lr = loguniform(1e-4, 1e-1)
wd = uniform(0, 1)
[scheduler]
type = pbt
population = 4
perturbation_interval = 4
max_t = 24
[synthetic]
objective = learning_curve
noise = 0.02
step_cost_ms = 1
)";
  // As many trials as groups: every source is training when it is copied (no turn-taking).
  const int K = (world_size() - 1) / G;
  ASSERT_EQ(run_text(text, dir.path(),
                     {"experiment.group_size=" + std::to_string(G), "scheduler.population=" + std::to_string(K),
                      "experiment.output=" + dir.file("p.h5")}),
            0);
  if (world_rank() != 0) return;
  const ExperimentData d = read_hdf5_experiment(dir.file("p.h5"));
  ASSERT_EQ(d.trials.size(), static_cast<size_t>(K));
  for (const auto& t : d.trials) EXPECT_EQ(t.status, TrialStatus::Completed) << t.id;
  ASSERT_FALSE(d.transfers.empty());
  int direct = 0;
  for (const auto& x : d.transfers) {
    EXPECT_GT(x.bytes, 0);
    EXPECT_GT(x.step, 0);
    EXPECT_NE(x.source_trial, x.target_trial);
    direct += x.source_group >= 0;
    // The target's row names its parent.
    EXPECT_GE(d.trials[x.target_trial].parent, 0);
  }
  EXPECT_GT(direct, 0);
}

// Hyperband pauses GPT trials to sharded checkpoints and resumes them, often on another group;
// FIFO trains the same trials (same seeds, same hyperparameters: both follow from the trial id)
// without a break. Every evaluation the paused-and-resumed trials report must equal the
// uninterrupted run's, to the bit: the checkpoint carries the whole training state.
TEST(Experiment, GptTrialsResumedFromCheckpointsContinueExactlyAsUninterruptedOnes) {
  SharedTempDir dir;
  const std::string text = R"(
[experiment]
name = gpt-resume
seed = 9
max_trials = 17
status_interval_s = 1000
[space]
lr = loguniform(1e-3, 1e-2)
weight_decay = uniform(0, 0.2)
[scheduler]
type = hyperband
min_t = 1
max_t = 9
reduction_factor = 3
[model]
n_layer = 1
n_head = 2
d_model = 32
seq_len = 32
[data]
eval_batches = 2
[train]
batch_size = 4
eval_interval = 1
log_interval = 1000
warmup_steps = 2
threads = 1
)";
  ASSERT_EQ(run_text(text, dir.path(), {"experiment.output=" + dir.file("hb.h5")}), 0);
  ASSERT_EQ(run_text(text, dir.path(), {"scheduler.type=fifo", "experiment.output=" + dir.file("fifo.h5")}), 0);
  if (world_rank() != 0) return;
  const ExperimentData hb = read_hdf5_experiment(dir.file("hb.h5"));
  const ExperimentData fifo = read_hdf5_experiment(dir.file("fifo.h5"));
  std::map<std::pair<TrialId, int64_t>, double> uninterrupted;
  for (const auto& m : fifo.metrics)
    if (std::isfinite(m.eval_loss)) uninterrupted[{m.trial, m.step}] = m.eval_loss;
  std::set<TrialId> resumed;
  for (const auto& d : hb.decisions)
    if (d.action == "resume") resumed.insert(d.trial);
  ASSERT_FALSE(resumed.empty());
  int compared = 0;
  for (const auto& m : hb.metrics) {
    if (!resumed.count(m.trial) || !std::isfinite(m.eval_loss)) continue;
    auto it = uninterrupted.find({m.trial, m.step});
    ASSERT_NE(it, uninterrupted.end()) << "trial " << m.trial << " step " << m.step;
    EXPECT_EQ(m.eval_loss, it->second) << "trial " << m.trial << " step " << m.step;
    ++compared;
  }
  EXPECT_GT(compared, static_cast<int>(resumed.size()));  // steps after the resume were compared too
}

TEST(Experiment, ShortGptExperimentTrainsAndRecordsCurves) {
  SharedTempDir dir;
  const std::string text = R"(
[experiment]
name = gpt-short
seed = 3
max_trials = 3
status_interval_s = 1000
[space]
lr = loguniform(1e-3, 1e-2)
batch_size = choice(4, 8)
[scheduler]
type = asha
max_t = 12
grace_period = 4
[model]
n_layer = 1
n_head = 2
d_model = 32
seq_len = 32
[data]
eval_batches = 2
[train]
log_interval = 4
warmup_steps = 2
threads = 1
)";
  ASSERT_EQ(run_text(text, dir.path(), {"experiment.output=" + dir.file("gpt.h5")}), 0);
  if (world_rank() != 0) return;
  const ExperimentData d = read_hdf5_experiment(dir.file("gpt.h5"));
  ASSERT_EQ(d.trials.size(), 3u);
  int evals = 0;
  for (const auto& m : d.metrics) {
    EXPECT_TRUE(std::isfinite(m.train_loss));
    if (std::isfinite(m.eval_loss)) {
      ++evals;
      EXPECT_LT(m.eval_loss, std::log(256.0) + 0.5);  // a byte model starts near ln 256 = 5.55
      EXPECT_GT(m.eval_loss, 0.5);
    }
    EXPECT_GT(m.tokens, 0);
  }
  EXPECT_GE(evals, 3);  // every trial evaluated at least at its first milestone
  EXPECT_TRUE(std::isfinite(d.summary.best_metric));
}

}  // namespace
}  // namespace mpitune
