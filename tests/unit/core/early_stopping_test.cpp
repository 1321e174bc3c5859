// Early stopping inside a trial (train.early_stop_patience / early_stop_min_delta), driven by
// the coordinator in the simulator on scripted learning curves, under FIFO and ASHA.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

// Trial with hyperparameter curve = c evaluates to kCurves[c][step / 5 - 1] at steps 5, 10, ...
// (the last value after the table's end).
const std::map<int64_t, std::vector<double>> kCurves = {
    // improvements 0.1, 0.05, then 0.001 and 0.0005 (both below delta = 0.01): the 2nd of them
    // (step 25) uses up patience 2.
    {0, {1.0, 0.9, 0.85, 0.849, 0.8485, 0.5, 0.4}},
    // keeps improving by 0.02 > delta: never stops early.
    {1, {1.0, 0.98, 0.96, 0.94, 0.92, 0.90, 0.88, 0.86, 0.84, 0.82, 0.80, 0.78}},
    // a worse value, then an improvement by exactly delta (not more than it: counts as none).
    {2, {1.0, 1.2, 0.99, 0.7}},
};

class ScriptedCurve final : public Trainable {
 public:
  void start(int64_t, const HParams& hp, uint64_t, int64_t) override {
    curve_ = &kCurves.at(hp.at("curve").as_int());
    step_ = 0;
  }
  int64_t step() const override { return step_; }
  StepResult train_step() override {
    ++step_;
    return StepResult{1.0, 1e-3, 0, 1, false};
  }
  double evaluate() override {
    const size_t i = static_cast<size_t>(step_ / 5) - 1;
    return i < curve_->size() ? (*curve_)[i] : curve_->back();
  }
  void release() override { curve_ = nullptr; }

 private:
  const std::vector<double>* curve_ = nullptr;
  int64_t step_ = 0;
};

// `overrides`: section.key=value, one per line.
ExperimentConfig config(const std::string& scheduler, const std::string& overrides = "") {
  std::ostringstream ini;
  ini << "[experiment]\nname = es\ntrainable = synthetic\nmax_trials = 3\n"
      << "[space]\ncurve = grid(0, 1, 2)\n[search]\ntype = grid\n"
      << "[scheduler]\ntype = " << scheduler << "\nmax_t = 60\n"
      << "[train]\neval_interval = 5\nlog_interval = 5\nearly_stop_patience = 2\nearly_stop_min_delta = 0.01\n";
  IniFile file = IniFile::parse(ini.str());
  std::istringstream lines(overrides);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) file.apply_override(line);
  return parse_config(file);
}

SimulationResult run(const ExperimentConfig& cfg, int groups = 1) {
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = groups;
  s.keep = "none";
  s.make_trainable = [] { return std::make_unique<ScriptedCurve>(); };
  return simulate(s);
}

const TrialRecord& trial(const SimulationResult& r, TrialId id) {
  for (const auto& t : r.data.trials)
    if (t.id == id) return t;
  throw InfraError("no trial " + std::to_string(id));
}

std::vector<DecisionRecord> decisions(const SimulationResult& r, TrialId id, const std::string& action) {
  std::vector<DecisionRecord> out;
  for (const auto& d : r.data.decisions)
    if (d.trial == id && d.action == action) out.push_back(d);
  return out;
}

// The stop is decided at the report of step 25; the virtual group (like a real one whose order
// arrives while it trains) has begun step 26 and ends the segment after it.
constexpr int64_t kInFlight = 1;

TEST(EarlyStopping, FifoStopsAtTheEvaluationThatUsesUpPatience) {
  const SimulationResult r = run(config("fifo"));
  const TrialRecord& t0 = trial(r, 0);
  EXPECT_EQ(t0.status, TrialStatus::EarlyStopped);
  EXPECT_EQ(t0.last_step, 25 + kInFlight);  // evaluations at 20 and 25 did not improve by more than 0.01
  EXPECT_EQ(t0.metric_step, 25);
  EXPECT_NE(t0.reason.find("early stopping"), std::string::npos) << t0.reason;
  const auto stops = decisions(r, 0, "early_stop");
  ASSERT_EQ(stops.size(), 1u);
  EXPECT_EQ(stops[0].step, 25);
  EXPECT_EQ(t0.reason, stops[0].reason);

  const TrialRecord& t1 = trial(r, 1);
  EXPECT_EQ(t1.status, TrialStatus::Completed);
  EXPECT_EQ(t1.last_step, 60);
  EXPECT_TRUE(decisions(r, 1, "early_stop").empty());

  // 1.0, then 1.2 (worse: 1), 0.99 (better by exactly 0.01, not more: 2) -> stopped at 15.
  const TrialRecord& t2 = trial(r, 2);
  EXPECT_EQ(t2.status, TrialStatus::EarlyStopped);
  EXPECT_EQ(t2.metric_step, 15);
  EXPECT_EQ(t2.last_step, 15 + kInFlight);
}

TEST(EarlyStopping, PatienceOffRunsEveryTrialToItsBudget) {
  ExperimentConfig cfg = config("fifo");
  cfg.train.early_stop_patience = 0;
  const SimulationResult plain = run(cfg);
  for (TrialId id : {0, 1, 2}) {
    EXPECT_EQ(trial(plain, id).status, TrialStatus::Completed) << id;
    EXPECT_EQ(trial(plain, id).last_step, 60) << id;
  }
}

TEST(EarlyStopping, AshaFreesTheGroupForTheNextTrial) {
  // Milestones past the early stop (grace 30): only early stopping ends trial 0 before 30.
  const SimulationResult r = run(config("asha", "scheduler.grace_period=30\nscheduler.reduction_factor=2"));
  const TrialRecord& t0 = trial(r, 0);
  EXPECT_EQ(t0.status, TrialStatus::EarlyStopped);
  EXPECT_EQ(t0.metric_step, 25);
  // One group: trial 1 starts at once, at the virtual time trial 0 ended (26 steps of 1 s).
  const auto start1 = decisions(r, 1, "start");
  ASSERT_EQ(start1.size(), 1u);
  EXPECT_DOUBLE_EQ(start1[0].time, 25.0 + kInFlight);
  EXPECT_EQ(trial(r, 2).status, TrialStatus::EarlyStopped);
  EXPECT_EQ(trial(r, 2).metric_step, 15);
}

TEST(EarlyStopping, AnEarlyStoppedTrialCountsAtFullBudgetForTheBest) {
  // Trial 0 stops early at 0.8485 (its final result stands for the full budget); trial 1
  // completes at 60 steps with 0.84 (its value at step 45 and after: the table's 9th entry on).
  const SimulationResult r = run(config("fifo"));
  EXPECT_EQ(r.data.summary.best_trial, 1);
  EXPECT_EQ(r.data.summary.best_budget, 60);
  EXPECT_DOUBLE_EQ(r.data.summary.best_metric, 0.78);
}

TEST(EarlyStopping, KeysAreCheckedAndCannotBeTuned) {
  EXPECT_THROW(parse_config(IniFile::parse("[train]\nearly_stop_patience = -1\n")), ConfigError);
  EXPECT_THROW(parse_config(IniFile::parse("[train]\nearly_stop_min_delta = -0.1\n")), ConfigError);
  EXPECT_THROW(parse_config(IniFile::parse("[space]\nearly_stop_patience = choice(1, 2)\n")), ConfigError);
}

}  // namespace
}  // namespace mpitune
