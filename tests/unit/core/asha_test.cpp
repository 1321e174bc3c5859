// ASHA and the rung bookkeeping it shares with Hyperband: milestones, both cut rules (with Ray's
// own test vector), jumps over milestones, completion at max_t, determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "mpitune/objective/synthetic.hpp"
#include "mpitune/sched/rungs.hpp"
#include "mpitune/sched/scheduler.hpp"

namespace mpitune {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(Rungs, Milestones) {
  EXPECT_EQ(rung_milestones(1, 3, 81), (std::vector<int64_t>{1, 3, 9, 27, 81}));
  EXPECT_EQ(rung_milestones(1, 3, 100), (std::vector<int64_t>{1, 3, 9, 27, 81, 100}));
  EXPECT_EQ(rung_milestones(1, 2, 10), (std::vector<int64_t>{1, 2, 4, 8, 10}));
  EXPECT_EQ(rung_milestones(5, 4, 100), (std::vector<int64_t>{5, 20, 80, 100}));
  EXPECT_EQ(rung_milestones(81, 3, 81), (std::vector<int64_t>{81}));
  EXPECT_EQ(rung_milestones(90, 3, 81), (std::vector<int64_t>{81}));
  // Fractional eta: rounded to whole steps, strictly increasing.
  EXPECT_EQ(rung_milestones(1, 1.5, 5), (std::vector<int64_t>{1, 2, 3, 5}));
  RungTable t(1, 3, 81);
  EXPECT_EQ(t.num_rungs(), 4);
  EXPECT_EQ(t.max_t(), 81);
}

TEST(Rungs, WhichMilestoneAStepReaches) {
  RungTable t(1, 3, 81);
  EXPECT_EQ(t.highest_reached(0), -1);
  EXPECT_EQ(t.highest_reached(1), 0);
  EXPECT_EQ(t.highest_reached(8), 1);
  EXPECT_EQ(t.highest_reached(9), 2);
  EXPECT_EQ(t.highest_reached(500), 4);
  EXPECT_EQ(t.next_milestone(0), 1);
  EXPECT_EQ(t.next_milestone(3), 9);
  EXPECT_EQ(t.next_milestone(10), 27);
  EXPECT_EQ(t.next_milestone(81), 81);
}

TEST(Rungs, RecordsOncePerTrialAndOnlyUpwards) {
  RungTable t(1, 3, 81);
  EXPECT_EQ(t.rung_to_judge(7, 10), 2);  // jumped 1 and 3: judged at 9 only
  EXPECT_TRUE(t.record(7, 2, 0.5));
  EXPECT_FALSE(t.record(7, 2, 0.1));  // the first value stays
  EXPECT_EQ(t.values(2), (std::vector<double>{0.5}));
  EXPECT_TRUE(t.values(0).empty());
  EXPECT_TRUE(t.values(1).empty());
  EXPECT_TRUE(t.recorded(7, 2));
  EXPECT_FALSE(t.recorded(7, 1));
  EXPECT_EQ(t.highest_recorded(7), 2);
  EXPECT_EQ(t.highest_recorded(8), -1);
  EXPECT_EQ(t.rung_to_judge(7, 20), -1);  // nothing new below 27, never back to 1 or 3
  EXPECT_EQ(t.rung_to_judge(7, 27), 3);
  EXPECT_EQ(t.rung_to_judge(8, 0), -1);
}

TEST(Rungs, TopKCount) {
  EXPECT_EQ(topk_keep_count(1, 3), 1);
  EXPECT_EQ(topk_keep_count(2, 3), 1);
  EXPECT_EQ(topk_keep_count(5, 3), 1);
  EXPECT_EQ(topk_keep_count(6, 3), 2);
  EXPECT_EQ(topk_keep_count(9, 3), 3);
  EXPECT_EQ(topk_keep_count(7, 2.5), 2);
  EXPECT_EQ(rank_among({3, 1, 2, 2}, 2), 1);  // ties share a rank
  EXPECT_TRUE(topk_keeps({3, 1, 2, 5, 4, 6}, 2, 3));   // k = 2, rank 1
  EXPECT_FALSE(topk_keeps({3, 1, 2, 5, 4, 6}, 3, 3));  // rank 2
}

TEST(Rungs, QuantileMatchesNumpyLinear) {
  // numpy.percentile([1, 2, 3, 4], [50, 75, 0, 100]) = 2.5, 3.25, 1, 4
  EXPECT_DOUBLE_EQ(*quantile_linear({4, 1, 3, 2}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(*quantile_linear({4, 1, 3, 2}, 0.75), 3.25);
  EXPECT_DOUBLE_EQ(*quantile_linear({4, 1, 3, 2}, 0.0), 1);
  EXPECT_DOUBLE_EQ(*quantile_linear({4, 1, 3, 2}, 1.0), 4);
  EXPECT_DOUBLE_EQ(*quantile_linear({7}, 0.66), 7);
  EXPECT_FALSE(quantile_linear({}, 0.5).has_value());
  // A failed trial's reward is -inf; the quantile stays defined instead of NaN.
  EXPECT_EQ(*quantile_linear({-kInf, 2}, 0.5), -kInf);
  EXPECT_DOUBLE_EQ(*quantile_linear({-kInf, 2, 4}, 0.75), 3);
}

// Ray's AsyncHyperBand test vector (rewards 2, 4, then 1), as losses -2, -4, -1.
TEST(Asha, RayPercentileVector) {
  EXPECT_DOUBLE_EQ(*percentile_cutoff_reward({-2, -4}, 2), 3.0);
  AshaOptions o;
  o.grace_period = 1;
  o.max_t = 10;
  o.reduction_factor = 2;
  o.rule = AshaOptions::Rule::Percentile;
  auto s = make_asha_scheduler(o);
  const Decision a = s->on_segment_end(0, 1, -2).own;
  EXPECT_EQ(a.action, Action::Continue);
  EXPECT_EQ(a.until, 2);
  EXPECT_EQ(a.rung, 0);
  EXPECT_NE(a.reason.find("first"), std::string::npos) << a.reason;
  EXPECT_EQ(s->on_segment_end(1, 1, -4).own.action, Action::Continue);
  const Decision c = s->on_segment_end(2, 1, -1).own;
  EXPECT_EQ(c.action, Action::Stop);
  EXPECT_EQ(c.rung, 0);
  EXPECT_NE(c.reason.find("cutoff -3"), std::string::npos) << c.reason;
  // C is recorded although stopped. A result exactly at the cutoff is not below it:
  // the median reward of {2, 4, 1} is 2, so reward 2 continues...
  EXPECT_EQ(s->on_segment_end(3, 1, -2).own.action, Action::Continue);
  // ...and the median of {2, 4, 1, 2} is 2, so reward 1.5 stops.
  EXPECT_EQ(s->on_segment_end(4, 1, -1.5).own.action, Action::Stop);
}

TEST(Asha, TopKCut) {
  auto s = make_asha_scheduler(AshaOptions{});  // r=1, R=81, eta=3, topk
  EXPECT_EQ(s->name(), "asha");
  EXPECT_EQ(s->max_steps(), 81);
  const double losses[] = {5, 4, 3, 2, 1, 6, 1.5, 4.5, 0.5};
  // n = 1..5 keep the best one, so each new best continues; 6 (n=6, k=2) is last -> stop;
  // 1.5 (n=7, k=2) is second -> continue; 4.5 (n=8) -> stop; 0.5 (n=9, k=3) -> continue.
  const Action expected[] = {Action::Continue, Action::Continue, Action::Continue,
                             Action::Continue, Action::Continue, Action::Stop,
                             Action::Continue, Action::Stop,     Action::Continue};
  for (int i = 0; i < 9; ++i) {
    const Decision d = s->on_segment_end(i, 1, losses[i]).own;
    EXPECT_EQ(d.action, expected[i]) << i << ": " << d.reason;
    EXPECT_EQ(d.rung, 0);
    if (d.action == Action::Continue) {
      EXPECT_EQ(d.until, 3);
    }
  }
  const Decision worse = s->on_segment_end(9, 1, 4.75).own;
  EXPECT_EQ(worse.reason, "rung 0 (step 1): rank 8 of 10, keep top 3");
  // A loss worse than the best but at a new rung with one result continues (first at rung 1).
  EXPECT_EQ(s->on_segment_end(0, 3, 9.0).own.action, Action::Continue);
  EXPECT_EQ(s->on_segment_end(1, 3, 10.0).own.action, Action::Stop);  // n=2, k=1, rank 2
}

TEST(Asha, TrialStartAndAssignments) {
  auto s = make_asha_scheduler(AshaOptions{3, 81, 3, AshaOptions::Rule::TopK});
  const Assignment a = s->next(true).assignment;
  EXPECT_EQ(a.kind, Assignment::Kind::NewTrial);
  EXPECT_EQ(a.budget, 3);
  EXPECT_EQ(s->on_trial_start(0, HParams(), a).until, 3);
  EXPECT_EQ(s->next(false).assignment.kind, Assignment::Kind::Done);

  auto whole = make_asha_scheduler(AshaOptions{81, 81, 3, AshaOptions::Rule::TopK});
  EXPECT_EQ(whole->on_trial_start(0, HParams(), whole->next(true).assignment).until, 81);
  EXPECT_EQ(whole->on_segment_end(0, 81, 1.0).own.action, Action::Complete);
}

TEST(Asha, JumpOverMilestonesJudgedOnceAtTheHighest) {
  auto s = make_asha_scheduler(AshaOptions{});
  // Trial 0 sets the bar at rungs 0 (step 1) and 2 (step 9).
  EXPECT_EQ(s->on_segment_end(0, 1, 1.0).own.action, Action::Continue);
  EXPECT_EQ(s->on_segment_end(0, 3, 1.0).own.action, Action::Continue);
  EXPECT_EQ(s->on_segment_end(0, 9, 1.0).own.action, Action::Continue);
  // Trial 1 arrives at step 10 directly: judged at milestone 9 only, where it is worse than
  // trial 0 (n=2, k=1). Had it been judged at step 1 it would have continued as well, so
  // the rung in the decision is what shows which milestone was used.
  const Decision d = s->on_segment_end(1, 10, 2.0).own;
  EXPECT_EQ(d.action, Action::Stop);
  EXPECT_EQ(d.rung, 2);
  EXPECT_NE(d.reason.find("reached at step 10"), std::string::npos) << d.reason;
  // Trial 2 also jumps to step 10 but is better: continues to the next milestone above 10.
  const Decision e = s->on_segment_end(2, 10, 0.5).own;
  EXPECT_EQ(e.action, Action::Continue);
  EXPECT_EQ(e.until, 27);
  // Rung 0 did not record trials 1 and 2: a new trial there is judged against trial 0 alone.
  const Decision f = s->on_segment_end(3, 1, 1.5).own;
  EXPECT_EQ(f.reason, "rung 0 (step 1): rank 2 of 2, keep top 1");
  // A second segment end without a new milestone is not judged again.
  const Decision g = s->on_segment_end(2, 12, 99.0).own;
  EXPECT_EQ(g.action, Action::Continue);
  EXPECT_EQ(g.until, 27);
  EXPECT_EQ(g.rung, -1);
}

TEST(Asha, ReachingMaxTCompletes) {
  auto s = make_asha_scheduler(AshaOptions{});
  EXPECT_EQ(s->on_segment_end(0, 27, 0.1).own.action, Action::Continue);
  // However bad, a trial at max_t completes: the full budget is never cut.
  const Decision d = s->on_segment_end(1, 81, 1e9).own;
  EXPECT_EQ(d.action, Action::Complete);
  EXPECT_EQ(d.rung, 4);
  EXPECT_EQ(s->on_segment_end(2, 90, kInf).own.action, Action::Complete);
  EXPECT_EQ(s->on_segment_end(0, 81, 0.05).own.action, Action::Complete);
}

TEST(Asha, NonFiniteLossesLoseAndFailuresBreakNothing) {
  auto s = make_asha_scheduler(AshaOptions{});
  EXPECT_EQ(s->on_segment_end(0, 1, 1.0).own.action, Action::Continue);
  EXPECT_EQ(s->on_segment_end(1, 1, std::nan("")).own.action, Action::Stop);  // NaN counts as +inf
  EXPECT_TRUE(s->on_trial_failed(0).empty());
  EXPECT_TRUE(s->on_trial_failed(42).empty());  // never seen: harmless
  // Trial 0's value stays recorded: a new trial at 2.0 is second of three (k=1) and stops.
  EXPECT_EQ(s->on_segment_end(2, 1, 2.0).own.action, Action::Stop);
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::NewTrial);
}

// Trials run one after another on the learning-curve objective; collects every decision.
std::vector<Decision> run_sequential(AshaOptions o, int n_trials, uint64_t seed) {
  auto s = make_asha_scheduler(o);
  std::vector<Decision> all;
  Rng rng(seed);
  for (TrialId id = 0; id < n_trials; ++id) {
    const std::vector<double> u{rng.uniform01(), rng.uniform01()};
    int64_t until = s->on_trial_start(id, HParams(), s->next(true).assignment).until;
    for (;;) {
      const Decisions ds = s->on_segment_end(id, until, learning_curve_loss(until, o.max_t, u, seed + id, 0.1));
      EXPECT_TRUE(ds.others.empty());  // asynchronous: never a decision about another trial
      const Decision& d = ds.own;
      all.push_back(d);
      if (d.action != Action::Continue) break;
      until = d.until;
    }
  }
  return all;
}

TEST(Asha, SameInputsSameDecisions) {
  for (auto rule : {AshaOptions::Rule::TopK, AshaOptions::Rule::Percentile}) {
    AshaOptions o{1, 81, 3, rule};
    const auto a = run_sequential(o, 40, 5), b = run_sequential(o, 40, 5);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].action, b[i].action);
      EXPECT_EQ(a[i].until, b[i].until);
      EXPECT_EQ(a[i].rung, b[i].rung);
      EXPECT_EQ(a[i].reason, b[i].reason);
    }
  }
}

TEST(Asha, FewerTrialsReachEachHigherRung) {
  for (auto rule : {AshaOptions::Rule::TopK, AshaOptions::Rule::Percentile}) {
    AshaOptions o{1, 81, 3, rule};
    const int n = 81;
    const auto all = run_sequential(o, n, 11);
    std::vector<int> judged(5, 0);
    int stops = 0, completes = 0;
    for (const auto& d : all) {
      if (d.rung >= 0) ++judged[static_cast<size_t>(d.rung)];
      stops += d.action == Action::Stop;
      completes += d.action == Action::Complete;
    }
    EXPECT_EQ(stops + completes, n);  // every trial ends exactly once
    EXPECT_EQ(judged[0], n);
    for (size_t r = 1; r < judged.size(); ++r) EXPECT_LE(judged[r], judged[r - 1]) << r;
    EXPECT_LT(completes, n / 3);  // most trials are stopped early
    EXPECT_GE(completes, 1);
  }
}

}  // namespace
}  // namespace mpitune
