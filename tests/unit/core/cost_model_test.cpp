// The simulator's cost model (coord/cost_model.hpp): the step-seconds formula, its parsing and
// errors, and that stragglers, jitter and failures are seeded draws that depend on the seed
// and on what they are for, not on the order they are asked in.
#include <gtest/gtest.h>

#include <cmath>

#include "mpitune/coord/cost_model.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

Space space() {
  return Space({Space::parse_domain("batch_size", "choice(8, 16, 32)"), Space::parse_domain("n_layer", "int(1, 8)"),
                Space::parse_domain("lr", "loguniform(1e-4, 1e-2)"), Space::parse_domain("act", "choice(gelu, relu)")});
}

HParams hp(int64_t batch, int64_t layers) {
  HParams h;
  h.set("batch_size", batch);
  h.set("n_layer", layers);
  h.set("lr", 1e-3);
  h.set("act", "gelu");
  return h;
}

TEST(CostModel, BasePlusCoefficientTimesProductOfHyperparameters) {
  SimulateOptions o;
  o.step_seconds = 0.1;
  o.step_seconds_per = "batch_size:0.01, n_layer:0.05, batch_size*n_layer:0.001";
  const CostModel m(o, space(), 1);
  EXPECT_DOUBLE_EQ(m.base_step_seconds(hp(16, 2)), 0.1 + 0.16 + 0.1 + 0.032);
  EXPECT_DOUBLE_EQ(m.step_seconds(0, 5, hp(32, 4), 3), 0.1 + 0.32 + 0.2 + 0.128);  // no jitter, no stragglers
}

TEST(CostModel, TheBaseDefaultsToTheSyntheticStepCostThenToOneSecond) {
  SimulateOptions o;
  EXPECT_DOUBLE_EQ(CostModel(o, space(), 1, 250).base_step_seconds(hp(8, 1)), 0.25);
  EXPECT_DOUBLE_EQ(CostModel(o, space(), 1, 0).base_step_seconds(hp(8, 1)), 1.0);
  o.step_seconds = 2;
  EXPECT_DOUBLE_EQ(CostModel(o, space(), 1, 250).base_step_seconds(hp(8, 1)), 2.0);
}

TEST(CostModel, BadTermsAreConfigErrorsNamingTheField) {
  for (const char* text : {"batch_size", "batch_size:x", "depth:0.1", "batch_size*depth:1", "batch_size:1,"}) {
    SimulateOptions o;
    o.step_seconds_per = text;
    try {
      CostModel m(o, space(), 1);
      ADD_FAILURE() << text << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("simulate.step_seconds_per"), std::string::npos) << e.what();
    }
  }
  SimulateOptions text_term;
  text_term.step_seconds_per = "act:1";
  const CostModel m(text_term, space(), 1);  // a text value is found when a trial has one
  EXPECT_THROW(m.base_step_seconds(hp(8, 1)), ConfigError);
  SimulateOptions negative;
  negative.step_seconds = 0.1;
  negative.step_seconds_per = "n_layer:-1";
  EXPECT_THROW(CostModel(negative, space(), 1).base_step_seconds(hp(8, 2)), ConfigError);
}

TEST(CostModel, JitterStaysWithinItsBoundsAndIsTheSameForTheSameSeed) {
  SimulateOptions o;
  o.step_seconds = 1;
  o.jitter = 0.2;
  const CostModel a(o, space(), 7), b(o, space(), 7), c(o, space(), 8);
  double sum = 0;
  int differ = 0;
  for (int64_t step = 1; step <= 2000; ++step) {
    const double s = a.step_seconds(0, 3, hp(8, 1), step);
    EXPECT_GE(s, 0.8);
    EXPECT_LT(s, 1.2);
    EXPECT_EQ(s, b.step_seconds(0, 3, hp(8, 1), step));  // asked again, in another model: the same
    differ += s != c.step_seconds(0, 3, hp(8, 1), step);
    sum += s;
  }
  EXPECT_NEAR(sum / 2000, 1.0, 0.02);  // mean 1: jitter is relative and symmetric
  EXPECT_GT(differ, 1900);
}

TEST(CostModel, StragglersAreAboutTheirFractionOfGroupsAndSlowerByTheirFactor) {
  SimulateOptions o;
  o.step_seconds = 1;
  o.straggler_fraction = 0.25;
  o.straggler_factor = 3;
  const CostModel m(o, space(), 11);
  int slow = 0;
  for (int g = 0; g < 4000; ++g) {
    const double s = m.step_seconds(g, 1, hp(8, 1), 1);
    EXPECT_EQ(s, m.is_straggler(g) ? 3.0 : 1.0);
    slow += m.is_straggler(g);
  }
  EXPECT_NEAR(slow / 4000.0, 0.25, 0.03);
}

TEST(CostModel, SegmentFailuresFollowTheirProbabilityAtAStepInsideTheSegment) {
  SimulateOptions o;
  o.failure_probability = 0.3;
  const CostModel m(o, space(), 5);
  int failed = 0;
  for (int64_t trial = 0; trial < 3000; ++trial) {
    const int64_t at = m.failure_step(trial, 0, 10, 20);
    if (at < 0) continue;
    ++failed;
    EXPECT_GT(at, 10);
    EXPECT_LE(at, 20);
  }
  EXPECT_NEAR(failed / 3000.0, 0.3, 0.03);
  // A retry (the next attempt) draws again.
  int retry_differs = 0;
  for (int64_t trial = 0; trial < 200; ++trial) retry_differs += m.failure_step(trial, 0, 0, 5) != m.failure_step(trial, 1, 0, 5);
  EXPECT_GT(retry_differs, 20);
  o.failure_probability = 0;
  EXPECT_EQ(CostModel(o, space(), 5).failure_step(1, 0, 0, 5), -1);
}

TEST(CostModel, CheckpointAndTransferSecondsAreStateSizeTimesSecondsPerGigabyte) {
  SimulateOptions o;
  o.state_gb = 1.5;
  o.checkpoint_seconds_per_gb = 2;
  o.transfer_seconds_per_gb = 0.5;
  const CostModel m(o, space(), 1);
  EXPECT_DOUBLE_EQ(m.checkpoint_seconds(), 3.0);
  EXPECT_DOUBLE_EQ(m.transfer_seconds(), 0.75);
}

}  // namespace
}  // namespace mpitune
