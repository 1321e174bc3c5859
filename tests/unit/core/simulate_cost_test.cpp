// The simulator with `mpitune simulate`'s cost model: utilisation, ideal time and overhead
// against their analytic values for FIFO with fixed step times, and jitter, stragglers,
// failures, checkpoint and transfer seconds changing the experiment as configured and the same
// way for the same seed.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {
namespace {

const char* kFifo = R"(
[experiment]
name = util
seed = 4
max_trials = 8
trainable = synthetic
[space]
x = uniform(0, 1)
batch_size = choice(8, 16)
[scheduler]
type = fifo
max_t = 10
[synthetic]
objective = learning_curve
)";

ExperimentConfig config(const std::string& overrides = "") {
  IniFile ini = IniFile::parse(kFifo);
  std::istringstream lines(overrides);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty()) ini.apply_override(line);
  return parse_config(ini);
}

struct SimRun {
  SimulationResult result;
  SimulationFigures figures;
};

SimRun simulate_with_costs(const ExperimentConfig& cfg, int groups) {
  const CostModel model(cfg.simulate, cfg.space, cfg.experiment.seed, cfg.synthetic.step_cost_ms);
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = groups;
  s.cost_model = &model;
  s.make_trainable = [&] { return make_synthetic_trainable(cfg); };
  SimRun r;
  r.result = simulate(s);
  r.figures = simulation_figures(r.result, groups);
  return r;
}

TEST(SimulateCosts, FifoWithFixedStepsHasTheAnalyticUtilisation) {
  const int64_t max_t = 10;
  struct Case {
    int trials, groups;
    double elapsed, utilisation;
  };
  // 8 trials on 4 groups: two waves, every group busy all the time. 9: a third wave with one
  // trial, 9 of 12 group-waves busy. 3 trials on 4 groups: one wave, 3 of 4 groups busy.
  for (const Case c : {Case{8, 4, 2.0 * max_t, 1.0}, Case{9, 4, 3.0 * max_t, 9.0 / 12}, Case{3, 4, 1.0 * max_t, 0.75}}) {
    const auto cfg = config("experiment.max_trials=" + std::to_string(c.trials) + "\nsimulate.step_seconds=1");
    const SimRun r = simulate_with_costs(cfg, c.groups);
    EXPECT_DOUBLE_EQ(r.result.elapsed, c.elapsed) << c.trials;
    EXPECT_DOUBLE_EQ(r.result.busy_seconds, c.trials * max_t * 1.0) << c.trials;
    EXPECT_DOUBLE_EQ(r.figures.utilisation, c.utilisation) << c.trials;
    EXPECT_DOUBLE_EQ(r.figures.ideal_s, c.trials * max_t / double(c.groups)) << c.trials;
    EXPECT_DOUBLE_EQ(r.figures.overhead, c.elapsed / r.figures.ideal_s - 1) << c.trials;
    EXPECT_EQ(r.result.steps, c.trials * max_t);
    EXPECT_EQ(r.result.data.trials.size(), static_cast<size_t>(c.trials));
    EXPECT_EQ(r.result.decisions, static_cast<int64_t>(r.result.data.decisions.size()));
  }
}

TEST(SimulateCosts, ARoundTripDelaysEverySegmentAndLowersTheUtilisationByItsShare) {
  // 8 one-segment trials of 10 s on 4 groups, each segment starting 0.5 s after its order:
  // two waves of 10.5 s, busy 10 of every 10.5 s.
  const auto cfg = config("simulate.step_seconds=1\nsimulate.round_trip_s=0.5");
  const SimRun r = simulate_with_costs(cfg, 4);
  EXPECT_DOUBLE_EQ(r.result.elapsed, 2 * 10.5);
  EXPECT_DOUBLE_EQ(r.result.busy_seconds, 80.0);
  EXPECT_DOUBLE_EQ(r.result.io_seconds, 0.0);  // idle, not I/O
  EXPECT_DOUBLE_EQ(r.figures.utilisation, 10.0 / 10.5);
}

TEST(SimulateCosts, StepSecondsFollowTheTrialsHyperparameters) {
  // 0.5 s + 0.1 s per unit of batch size: a trial of batch 8 takes 1.3 s a step, of 16 2.1 s.
  const auto cfg = config("experiment.max_trials=6\nsimulate.step_seconds=0.5\nsimulate.step_seconds_per=batch_size:0.1");
  const SimRun r = simulate_with_costs(cfg, 2);
  double expected_busy = 0;
  for (const auto& t : r.result.data.trials) {
    const double step = 0.5 + 0.1 * t.hparams.at("batch_size").as_double();
    expected_busy += step * 10;
    EXPECT_NEAR(t.end_time - t.start_time, step * 10, 1e-9) << t.id;
  }
  EXPECT_NEAR(r.result.busy_seconds, expected_busy, 1e-9);
  EXPECT_LE(r.figures.utilisation, 1.0);
}

TEST(SimulateCosts, JitterAndStragglersChangeElapsedTheSameWayForTheSameSeed) {
  const SimRun plain = simulate_with_costs(config("simulate.step_seconds=1"), 4);
  for (const char* knob : {"simulate.jitter=0.3", "simulate.straggler_fraction=0.5\nsimulate.straggler_factor=4"}) {
    const std::string base = std::string("simulate.step_seconds=1\n") + knob;
    const SimRun a = simulate_with_costs(config(base), 4);
    const SimRun b = simulate_with_costs(config(base), 4);
    const SimRun other = simulate_with_costs(config(base + "\nexperiment.seed=5"), 4);
    EXPECT_EQ(a.result.elapsed, b.result.elapsed) << knob;
    EXPECT_EQ(a.result.busy_seconds, b.result.busy_seconds) << knob;
    EXPECT_NE(a.result.elapsed, plain.result.elapsed) << knob;
    EXPECT_NE(a.result.elapsed, other.result.elapsed) << knob;
    EXPECT_LT(a.figures.utilisation, 1.0) << knob;  // unequal step times leave groups waiting
  }
}

TEST(SimulateCosts, FailureProbabilityFailsTrialsAtSeededSteps) {
  const auto cfg = config("experiment.max_trials=40\nsimulate.failure_probability=0.5");
  const SimRun a = simulate_with_costs(cfg, 4);
  const SimRun b = simulate_with_costs(cfg, 4);
  int failed = 0;
  for (const auto& t : a.result.data.trials) {
    if (t.status != TrialStatus::Failed) {
      EXPECT_EQ(t.status, TrialStatus::Completed);
      continue;
    }
    ++failed;
    EXPECT_NE(t.reason.find("simulate.failure_probability"), std::string::npos) << t.reason;
    EXPECT_GE(t.last_step, 1);
    EXPECT_LE(t.last_step, 10);
  }
  EXPECT_EQ(failed, a.result.injected_failures);
  EXPECT_GT(failed, 8);
  EXPECT_LT(failed, 32);
  ASSERT_EQ(a.result.data.trials.size(), b.result.data.trials.size());
  for (size_t i = 0; i < a.result.data.trials.size(); ++i)
    EXPECT_EQ(a.result.data.trials[i].last_step, b.result.data.trials[i].last_step);
  // With retries the trial's next attempt draws again: some failed segments then complete.
  const SimRun retried = simulate_with_costs(config("experiment.max_trials=40\nsimulate.failure_probability=0.5\n"
                                                 "experiment.max_failures_per_trial=3"), 4);
  int retried_failed = 0;
  for (const auto& t : retried.result.data.trials) retried_failed += t.status == TrialStatus::Failed;
  EXPECT_LT(retried_failed, failed);
  EXPECT_GT(retried.result.injected_failures, retried_failed);
}

const char* kPbt = R"(
[experiment]
name = pbt
seed = 2
trainable = synthetic
[space]
x = uniform(0, 1)
[scheduler]
type = pbt
population = 4
perturbation_interval = 5
max_t = 20
[synthetic]
objective = learning_curve
)";

TEST(SimulateCosts, CheckpointAndTransferSecondsAreChargedToTheGroupsNotToBusyTime) {
  auto pbt = [](const std::string& extra) {
    IniFile ini = IniFile::parse(kPbt);
    std::istringstream lines(extra);
    std::string line;
    while (std::getline(lines, line))
      if (!line.empty()) ini.apply_override(line);
    return parse_config(ini);
  };
  const auto cfg_free = pbt("");
  const auto cfg_io = pbt("simulate.state_gb=2\nsimulate.checkpoint_seconds_per_gb=1\nsimulate.transfer_seconds_per_gb=3");
  const SimRun free_io = simulate_with_costs(cfg_free, 2);
  const SimRun with_io = simulate_with_costs(cfg_io, 2);
  EXPECT_EQ(free_io.result.io_seconds, 0);
  ASSERT_FALSE(with_io.result.data.transfers.empty());
  EXPECT_GT(with_io.result.io_seconds, 0);
  EXPECT_GT(with_io.result.elapsed, free_io.result.elapsed);
  // Every charge is a whole number of 2 s checkpoints and 6 s transfers.
  const double units = with_io.result.io_seconds / 2;
  EXPECT_DOUBLE_EQ(units, std::round(units));
  EXPECT_LT(with_io.figures.utilisation, free_io.figures.utilisation);
}

}  // namespace
}  // namespace mpitune
