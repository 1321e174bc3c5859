// Which trial is best: the best final result at the largest budget reached (best_trial.hpp).
#include <gtest/gtest.h>

#include "mpitune/store/best_trial.hpp"

namespace mpitune {
namespace {

TrialRecord trial(TrialId id, TrialStatus status, double metric, int64_t step) {
  TrialRecord t;
  t.id = id;
  t.status = status;
  t.last_metric = metric;
  t.best_metric = metric;
  t.metric_step = step;
  t.last_step = step;
  return t;
}

TEST(BestTrial, AFullBudgetResultBeatsABetterValueAtALowerBudget) {
  const std::vector<TrialRecord> trials = {
      trial(0, TrialStatus::Stopped, 1.0, 9),     // lucky early value
      trial(1, TrialStatus::Completed, 2.0, 81),
      trial(2, TrialStatus::Completed, 1.5, 81),
      trial(3, TrialStatus::Stopped, 1.2, 27),
  };
  const BestChoice b = select_best_trial(trials, 81, false);
  EXPECT_EQ(b.trial, 2);
  EXPECT_DOUBLE_EQ(b.metric, 1.5);
  EXPECT_EQ(b.budget, 81);
  EXPECT_TRUE(b.at_full_budget);
  EXPECT_EQ(select_best_trial(trials, 81, /*maximize=*/true).trial, 1);
}

TEST(BestTrial, WithoutAFullBudgetResultTheLargestBudgetReachedDecidesAndIsFlagged) {
  const std::vector<TrialRecord> trials = {
      trial(0, TrialStatus::Stopped, 1.0, 9),
      trial(1, TrialStatus::Stopped, 1.4, 27),
      trial(2, TrialStatus::Stopped, 1.3, 27),
  };
  const BestChoice b = select_best_trial(trials, 81, false);
  EXPECT_EQ(b.trial, 2);
  EXPECT_EQ(b.budget, 27);
  EXPECT_FALSE(b.at_full_budget);
}

TEST(BestTrial, EarlyStoppedCountsAsFullBudgetFailedAndUnevaluatedDoNot) {
  std::vector<TrialRecord> trials = {
      trial(0, TrialStatus::Completed, 1.5, 81),
      trial(1, TrialStatus::EarlyStopped, 1.2, 30),
      trial(2, TrialStatus::Failed, 0.1, 81),
      trial(3, TrialStatus::Running, kNaN, -1),
  };
  EXPECT_EQ(final_budget(trials[1], 81), 81);
  EXPECT_EQ(final_budget(trials[2], 81), -1);
  EXPECT_EQ(final_budget(trials[3], 81), -1);
  const BestChoice b = select_best_trial(trials, 81, false);
  EXPECT_EQ(b.trial, 1);
  EXPECT_TRUE(b.at_full_budget);
  EXPECT_EQ(select_best_trial(std::vector<TrialRecord>{trials[2], trials[3]}, 81, false).trial, -1);
}

TEST(BestTrial, TiesGoToTheLowerId) {
  const std::vector<TrialRecord> trials = {trial(4, TrialStatus::Completed, 1.0, 81),
                                           trial(2, TrialStatus::Completed, 1.0, 81)};
  EXPECT_EQ(select_best_trial(trials, 81, false).trial, 2);
}

}  // namespace
}  // namespace mpitune
