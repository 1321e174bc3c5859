// The coordinator logic, driven by the in-process simulator over synthetic objectives.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "mpitune/coord/factories.hpp"
#include "mpitune/coord/simulator.hpp"
#include "mpitune/core/fault_injection.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {
namespace {

ExperimentConfig make_config(const std::string& extra = "") {
  std::string text = R"(
[experiment]
name = sim
seed = 7
max_trials = 20
trainable = synthetic
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
[train]
log_interval = 5
)";
  IniFile ini = IniFile::parse(text);
  std::istringstream lines(extra);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty()) ini.apply_override(line);
  return parse_config(ini);
}

SimulationResult run(const ExperimentConfig& cfg, int groups = 3, const std::string& keep = "none") {
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = groups;
  s.keep = keep;
  s.make_trainable = [&] { return with_fault_injection(make_synthetic_trainable(cfg), cfg.faults); };
  return simulate(s);
}

std::vector<std::string> decision_trace(const ExperimentData& d) {
  std::vector<std::string> out;
  for (const auto& r : d.decisions)
    out.push_back(std::to_string(r.trial) + "@" + std::to_string(r.step) + ":" + r.action);
  return out;
}

TEST(Coordinator, AshaRunsEveryTrialToATerminalStatus) {
  const auto cfg = make_config();
  const auto r = run(cfg);
  ASSERT_EQ(r.data.trials.size(), 20u);
  int completed = 0, stopped = 0;
  for (const auto& t : r.data.trials) {
    EXPECT_TRUE(t.status == TrialStatus::Completed || t.status == TrialStatus::Stopped)
        << trial_status_name(t.status);
    completed += t.status == TrialStatus::Completed;
    stopped += t.status == TrialStatus::Stopped;
    if (t.status == TrialStatus::Completed) {
      EXPECT_EQ(t.last_step, 27);
    }
    EXPECT_GT(t.device_seconds, 0);
  }
  EXPECT_GT(completed, 0);
  EXPECT_GT(stopped, completed);  // successive halving stops most trials early
  EXPECT_EQ(r.data.summary.status, "finished");
  EXPECT_EQ(r.data.summary.trials, 20);
  // Each trial's rows are in step order, and every start has a matching end decision.
  std::set<TrialId> started, ended;
  for (const auto& d : r.data.decisions) {
    if (d.action == "start") started.insert(d.trial);
    if (d.action == "stop" || d.action == "complete") ended.insert(d.trial);
  }
  EXPECT_EQ(started.size(), 20u);
  EXPECT_EQ(ended, started);
}

TEST(Coordinator, SameSeedSameDecisionsOtherSeedOthers) {
  const auto a = run(make_config());
  const auto b = run(make_config());
  EXPECT_EQ(decision_trace(a.data), decision_trace(b.data));
  const auto c = run(make_config("experiment.seed=8"));
  EXPECT_NE(decision_trace(a.data), decision_trace(c.data));
}

TEST(Coordinator, FifoCompletesEveryTrialAndAshaUsesFewerSteps) {
  const auto fifo = run(make_config("scheduler.type=fifo"));
  for (const auto& t : fifo.data.trials) EXPECT_EQ(t.status, TrialStatus::Completed);
  EXPECT_EQ(fifo.steps, 20 * 27);
  const auto asha = run(make_config());
  EXPECT_LT(asha.steps, fifo.steps / 2);
}

TEST(Coordinator, InjectedFailuresAreRecordedAndTheOthersGoOn) {
  const auto cfg = make_config("faults.fail_trials=1,4\nfaults.fail_at_step=1\nscheduler.type=fifo");
  const auto r = run(cfg);
  ASSERT_EQ(r.data.trials.size(), 20u);
  for (const auto& t : r.data.trials) {
    if (t.id == 1 || t.id == 4) {
      EXPECT_EQ(t.status, TrialStatus::Failed);
      EXPECT_NE(t.reason.find("injected failure"), std::string::npos) << t.reason;
    } else {
      EXPECT_EQ(t.status, TrialStatus::Completed);
    }
  }
  const auto nan = run(make_config("faults.fail_trials=2\nfaults.fail_mode=nan\nscheduler.type=fifo"));
  EXPECT_EQ(nan.data.trials[2].status, TrialStatus::Failed);
  EXPECT_NE(nan.data.trials[2].reason.find("non-finite"), std::string::npos) << nan.data.trials[2].reason;
}

TEST(Coordinator, TimeBudgetStopsRunningTrialsAndNewOnes) {
  // 3 groups, 1 virtual second a step: a budget of 30 s allows about 90 steps in all.
  const auto r = run(make_config("experiment.time_budget_s=30\nscheduler.type=fifo"));
  EXPECT_LT(r.data.trials.size(), 20u);
  int budget_stops = 0;
  for (const auto& t : r.data.trials) budget_stops += t.reason == "time budget reached";
  EXPECT_GT(budget_stops, 0);
  EXPECT_LE(r.elapsed, 31.0);
  EXPECT_LE(r.steps, 3 * 31);
}

TEST(Coordinator, BestSoFarIsTheMinimumOfTheMetric) {
  const auto r = run(make_config());
  double best = 1e300;
  TrialId best_trial = -1;
  for (const auto& m : r.data.metrics)
    if (std::isfinite(m.eval_loss) && m.eval_loss < best) best = m.eval_loss, best_trial = m.trial;
  EXPECT_DOUBLE_EQ(r.data.summary.best_metric, best);
  EXPECT_EQ(r.data.summary.best_trial, best_trial);
}

TEST(Coordinator, ModeMaxPicksTheLargest) {
  const auto r = run(make_config("experiment.mode=max\nscheduler.type=fifo\nexperiment.max_trials=6"));
  double best = -1e300;
  for (const auto& m : r.data.metrics)
    if (std::isfinite(m.eval_loss)) best = std::max(best, m.eval_loss);
  EXPECT_DOUBLE_EQ(r.data.summary.best_metric, best);
}

std::set<std::string> trial_folders(const std::set<TrialId>& ids) {
  std::set<std::string> out;
  for (TrialId id : ids) out.insert("trial-" + std::to_string(id));
  return out;
}

TEST(CoordinatorKeep, BestKeepsOnlyTheBestTrialsFinalState) {
  const auto cfg = make_config();
  const auto r = run(cfg, 3, "best");
  ASSERT_GE(r.data.summary.best_trial, 0);
  EXPECT_EQ(r.kept, (std::set<TrialId>{r.data.summary.best_trial}));
  EXPECT_EQ(r.kept_folders, trial_folders(r.kept));  // earlier bests' folders went
  const auto none = run(cfg, 3, "none");
  EXPECT_TRUE(none.kept.empty());
  EXPECT_TRUE(none.kept_folders.empty());
  // Keeping costs no trial: the same decisions with and without it.
  EXPECT_EQ(decision_trace(r.data), decision_trace(none.data));
}

TEST(CoordinatorKeep, AWorseTrialsWeightsWrittenLastDoNotReplaceTheBest) {
  // Two groups end two FIFO trials; the better one's kept weights are written first, the worse
  // one's (asked for while it was the best so far) last: the best stays kept.
  const auto cfg = make_config("scheduler.type=fifo\nscheduler.max_t=2\nexperiment.max_trials=2");
  auto scheduler = make_scheduler(cfg);
  auto searcher = make_searcher(cfg);
  MemoryStore store;
  CoordinatorOptions o = coordinator_options(cfg, 2, 0, "ckpt");
  o.keep = "best";
  o.keep_root = "kept";
  store.begin(experiment_info(cfg, 2, 0), {});
  CoordinatorCore core(o, *scheduler, *searcher, store);
  core.handle(0, ReadyMsg{0}, 0);
  core.handle(1, ReadyMsg{1}, 0);
  auto done = [](int group, TrialId trial, double loss) {
    SegmentDoneMsg d;
    d.group = group, d.trial = trial, d.step = 2, d.metrics.eval_loss = loss, d.seconds = 1;
    return d;
  };
  auto checkpoint_order = [](const std::vector<Outgoing>& out, TrialId trial) {
    for (const auto& o : out)
      if (auto* c = std::get_if<CheckpointMsg>(&o.message); c && c->trial == trial) return true;
    return false;
  };
  EXPECT_TRUE(checkpoint_order(core.handle(0, done(0, 0, 2.0), 1), 0));  // the best so far
  EXPECT_TRUE(checkpoint_order(core.handle(1, done(1, 1, 1.0), 2), 1));  // better
  core.handle(1, CheckpointDoneMsg{1, 1, 2, 0.1}, 3);
  EXPECT_EQ(core.kept(), (std::set<TrialId>{1}));
  core.handle(0, CheckpointDoneMsg{0, 0, 2, 0.1}, 4);
  EXPECT_EQ(core.kept(), (std::set<TrialId>{1}));
  const auto deletions = core.take_deletions();
  EXPECT_NE(std::find(deletions.begin(), deletions.end(), trial_checkpoint_dir("kept", 0)), deletions.end());
  EXPECT_EQ(std::find(deletions.begin(), deletions.end(), trial_checkpoint_dir("kept", 1)), deletions.end());
}

TEST(CoordinatorKeep, AllKeepsEveryTrialThatDidNotFailIncludingPausedOnes) {
  // Hyperband pauses trials at rung ends; those that lose a rung end while paused and keep the
  // checkpoint they have. Failed trials keep nothing.
  const auto cfg = make_config("scheduler.type=hyperband\nscheduler.min_t=1\nscheduler.max_t=9\n"
                               "faults.fail_trials=2\nfaults.fail_at_step=1");
  const auto r = run(cfg, 3, "all");
  std::set<TrialId> expected;
  bool paused_and_stopped = false;
  for (const auto& t : r.data.trials) {
    if (t.status != TrialStatus::Failed) expected.insert(t.id);
    paused_and_stopped |= t.status == TrialStatus::Stopped && t.last_step < 9;
  }
  EXPECT_TRUE(paused_and_stopped);
  EXPECT_EQ(expected.count(2), 0u);
  EXPECT_EQ(r.kept, expected);
  EXPECT_EQ(r.kept_folders, trial_folders(expected));
}

}  // namespace
}  // namespace mpitune
