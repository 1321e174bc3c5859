// The end of the search: the best configuration evaluated once on the test split (/final with a
// bootstrap interval over test documents), from its kept weights or a retrain, driven by the
// coordinator in the simulator on the synthetic objectives.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/core/bootstrap.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {
namespace {

// `overrides`: section.key=value, one per line.
ExperimentConfig config(const std::string& overrides) {
  std::ostringstream ini;
  ini << "[experiment]\nname = final\nseed = 5\ntrainable = synthetic\nmax_trials = 12\n"
      << "[space]\nlr = loguniform(1e-4, 1e-1)\nwidth = uniform(0, 1)\n"
      << "[scheduler]\ntype = asha\nmax_t = 27\ngrace_period = 1\nreduction_factor = 3\n"
      << "[data]\ntest_fraction = 0.1\n";
  IniFile file = IniFile::parse(ini.str());
  std::istringstream lines(overrides);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) file.apply_override(line);
  return parse_config(file);
}

SimulationResult run(const ExperimentConfig& cfg) {
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = 3;
  s.make_trainable = [&] { return make_synthetic_trainable(cfg); };
  return simulate(s);
}

const TrialRecord& trial(const SimulationResult& r, TrialId id) {
  for (const auto& t : r.data.trials)
    if (t.id == id) return t;
  throw std::runtime_error("no trial " + std::to_string(id));
}

TEST(FinalEvaluation, TheBestTrialsKeptWeightsAreEvaluatedOnceOnTheTestSplit) {
  const ExperimentConfig cfg = config("");
  const SimulationResult r = run(cfg);
  ASSERT_EQ(r.data.finals.size(), 1u);
  const FinalRecord& f = r.data.finals[0];
  EXPECT_EQ(f.label, "best");
  EXPECT_EQ(f.trial, r.data.summary.best_trial);
  const TrialRecord& best = trial(r, f.trial);
  EXPECT_EQ(f.step, best.metric_step);
  EXPECT_EQ(f.hparams, best.hparams.to_string());
  // The same weights as its last evaluation: the validation loss is its final metric.
  EXPECT_DOUBLE_EQ(f.eval_loss, best.last_metric);

  // The test loss is the token-weighted mean of the per-document rows, within its interval.
  ASSERT_EQ(static_cast<int>(r.data.final_documents.size()), kSyntheticTestDocuments);
  double sum = 0;
  int64_t tokens = 0;
  for (const auto& d : r.data.final_documents) {
    EXPECT_EQ(d.label, "best");
    sum += d.loss_sum;
    tokens += d.tokens;
  }
  EXPECT_EQ(f.test_tokens, tokens);
  EXPECT_EQ(f.test_documents, kSyntheticTestDocuments);
  EXPECT_NEAR(f.test_loss, sum / tokens, 1e-12);
  EXPECT_EQ(f.bootstrap, 1000);
  EXPECT_LT(f.test_ci_low, f.test_loss);
  EXPECT_GT(f.test_ci_high, f.test_loss);
  // Documents differ by offsets of sd 0.1: the interval of a mean over 200 is about +-0.014.
  EXPECT_LT(f.test_ci_high - f.test_ci_low, 0.06);
  EXPECT_GT(f.test_ci_high - f.test_ci_low, 0.01);
  // A decision row says what happened.
  bool said = false;
  for (const auto& d : r.data.decisions) said |= d.action == "final_eval" && d.trial == f.trial;
  EXPECT_TRUE(said);
}

TEST(FinalEvaluation, NoTestSplitNoFinalEvaluation) {
  ExperimentConfig cfg = config("");
  cfg.data.test_fraction = 0;
  const SimulationResult r = run(cfg);
  EXPECT_TRUE(r.data.finals.empty());
  EXPECT_TRUE(r.data.final_documents.empty());
}

TEST(FinalEvaluation, RetrainTrainsTheBestConfigurationAtMaxTWithTheGivenSeed) {
  const ExperimentConfig cfg = config("experiment.final_retrain=true\nexperiment.final_seed=99");
  const SimulationResult r = run(cfg);
  ASSERT_EQ(r.data.finals.size(), 1u);
  const FinalRecord& f = r.data.finals[0];
  EXPECT_EQ(f.label, "retrain");
  const TrialRecord& retrain = trial(r, f.trial);
  EXPECT_EQ(retrain.status, TrialStatus::Completed);
  EXPECT_EQ(retrain.last_step, 27);
  EXPECT_EQ(f.step, 27);
  EXPECT_NE(retrain.reason.find("final retrain"), std::string::npos);
  // Its configuration is the search's best, and it is not itself a candidate for the best.
  EXPECT_NE(f.trial, r.data.summary.best_trial);
  EXPECT_EQ(retrain.hparams, trial(r, r.data.summary.best_trial).hparams);
  // It is the last trial created.
  for (const auto& t : r.data.trials) EXPECT_LE(t.id, f.trial);
}

TEST(FinalEvaluation, TrialsStoppedByTheTimeBudgetGetOneEvaluationAtTheStepTheyReached) {
  // FIFO trials of 100 steps of 1 virtual second each, and a 30 s budget: both groups' trials
  // are cut at about step 30 and evaluated there; the best is flagged as at a lower budget.
  ExperimentConfig cfg = config("scheduler.type=fifo\nscheduler.max_t=100\nexperiment.time_budget_s=30");
  const SimulationResult r = run(cfg);
  int cut = 0;
  for (const auto& t : r.data.trials) {
    if (t.reason != "time budget reached") continue;
    ++cut;
    EXPECT_EQ(t.status, TrialStatus::Stopped);
    EXPECT_EQ(t.metric_step, t.last_step) << "trial " << t.id;
    EXPECT_GT(t.last_step, 0);
    EXPECT_LT(t.last_step, 100);
    bool evaluated_there = false;
    for (const auto& m : r.data.metrics)
      evaluated_there |= m.trial == t.id && m.step == t.last_step && !std::isnan(m.eval_loss);
    EXPECT_TRUE(evaluated_there) << "trial " << t.id;
  }
  EXPECT_EQ(cut, 3);  // one per group
  EXPECT_LT(r.data.summary.best_budget, 100);
  // The test evaluation still runs after the budget is spent.
  ASSERT_EQ(r.data.finals.size(), 1u);
  EXPECT_EQ(r.data.finals[0].trial, r.data.summary.best_trial);
}

TEST(Bootstrap, IntervalOfAKnownDistributionCoversItsMean) {
  // 400 documents of one token each with losses 1 + N(0, 1): the mean's 95% interval is
  // mean +- 1.96 / sqrt(400) = +-0.098.
  Rng rng(7);
  std::vector<double> sums;
  std::vector<int64_t> tokens;
  for (int i = 0; i < 400; ++i) {
    sums.push_back(1.0 + rng.normal());
    tokens.push_back(1);
  }
  const BootstrapInterval b = bootstrap_mean_loss(sums, tokens, 4000, 1);
  double mean = 0;
  for (double v : sums) mean += v / 400;
  EXPECT_NEAR(b.estimate, mean, 1e-12);
  EXPECT_NEAR(b.high - b.low, 2 * 1.96 / 20.0, 0.03);
  EXPECT_NEAR((b.high + b.low) / 2, mean, 0.02);
  EXPECT_EQ(b.resamples, 4000);
  // Deterministic for a seed.
  const BootstrapInterval again = bootstrap_mean_loss(sums, tokens, 4000, 1);
  EXPECT_EQ(again.low, b.low);
  EXPECT_EQ(again.high, b.high);
}

TEST(Bootstrap, WeighsDocumentsByTheirTokens) {
  const BootstrapInterval b = bootstrap_mean_loss({10.0, 1.0}, {10, 1}, 0, 0);
  EXPECT_DOUBLE_EQ(b.estimate, 1.0);  // (10 + 1) / (10 + 1)
  EXPECT_EQ(b.resamples, 0);
  EXPECT_THROW(bootstrap_mean_loss({1.0}, {0}, 10, 0), InfraError);
  EXPECT_THROW(bootstrap_mean_loss({1.0, 2.0}, {1}, 10, 0), InfraError);
}

TEST(Bootstrap, PairedComparisonSeesAConsistentDifferenceAndNotNoise) {
  Rng rng(3);
  std::vector<double> a, b, same;
  std::vector<int64_t> tokens;
  for (int i = 0; i < 300; ++i) {
    const double doc = rng.normal();  // a document's own difficulty, shared by both models
    a.push_back(2.0 + doc - 0.05 + 0.01 * rng.normal());
    b.push_back(2.0 + doc);
    same.push_back(2.0 + doc + 0.01 * rng.normal());
    tokens.push_back(1);
  }
  const PairedComparison better = paired_bootstrap(a, b, tokens, 2000, 1);
  EXPECT_NEAR(better.difference.estimate, -0.05, 0.005);
  EXPECT_LT(better.difference.high, 0);
  EXPECT_LT(better.p_value, 0.01);
  const PairedComparison noise = paired_bootstrap(same, b, tokens, 2000, 1);
  EXPECT_LT(noise.difference.low, 0);
  EXPECT_GT(noise.difference.high, 0);
  EXPECT_GT(noise.p_value, 0.05);
}

}  // namespace
}  // namespace mpitune
