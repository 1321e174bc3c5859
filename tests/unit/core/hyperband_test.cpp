// Synchronous Hyperband: the bracket table against the paper's, the pause/resume/stop flow of
// one bracket step by step, and whole runs through the scheduler API with a fake loss (counts
// per bracket and budget, winners, failures, shrinking when no new trials may start, Done).
//
// The whole runs use a small event loop that plays the coordinator's part (the scheduler API
// alone, with fake losses); coord/simulator.hpp drives Hyperband through the real core in
// simulated_schedulers_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "mpitune/core/error.hpp"
#include "mpitune/sched/hyperband.hpp"

namespace mpitune {
namespace {

using Table = std::vector<std::vector<std::pair<int64_t, int64_t>>>;  // per bracket: (n, budget)

Table table_of(const std::vector<HyperbandBracket>& bs) {
  Table t;
  for (const auto& b : bs) {
    t.emplace_back();
    for (const auto& r : b.rungs) t.back().push_back({r.n, r.budget});
  }
  return t;
}

TEST(HyperbandBrackets, MatchThePaperForR81Eta3) {
  const auto bs = hyperband_brackets(1, 81, 3);
  const Table paper = {
      {{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}},
      {{34, 3}, {11, 9}, {3, 27}, {1, 81}},
      {{15, 9}, {5, 27}, {1, 81}},
      {{8, 27}, {2, 81}},
      {{5, 81}},
  };
  EXPECT_EQ(table_of(bs), paper);
  ASSERT_EQ(bs.size(), 5u);
  for (size_t i = 0; i < bs.size(); ++i) EXPECT_EQ(bs[i].s, 4 - static_cast<int>(i));
}

TEST(HyperbandBrackets, OtherRangesAndFactors) {
  // R = 27, eta = 3: B = 4 * 27; n = ceil(4 * 3^s / (s + 1)).
  EXPECT_EQ(table_of(hyperband_brackets(1, 27, 3)),
            (Table{{{27, 1}, {9, 3}, {3, 9}, {1, 27}}, {{12, 3}, {4, 9}, {1, 27}}, {{6, 9}, {2, 27}}, {{4, 27}}}));
  // R = 8, eta = 2: n = ceil(4 * 2^s / (s + 1)) = 8, 6 (5.33), 4, 4.
  EXPECT_EQ(table_of(hyperband_brackets(1, 8, 2)),
            (Table{{{8, 1}, {4, 2}, {2, 4}, {1, 8}}, {{6, 2}, {3, 4}, {1, 8}}, {{4, 4}, {2, 8}}, {{4, 8}}}));
  // R not a power of eta: budgets R / eta^k rounded, the last exactly R.
  const auto b100 = hyperband_brackets(1, 100, 3);
  ASSERT_EQ(b100.size(), 5u);
  std::vector<int64_t> budgets;
  for (const auto& r : b100.front().rungs) budgets.push_back(r.budget);
  EXPECT_EQ(budgets, (std::vector<int64_t>{1, 4, 11, 33, 100}));
  // min_t > 1: s_max from R / r, budgets still R * eta^-s.
  EXPECT_EQ(table_of(hyperband_brackets(2, 81, 3)).front(),
            (std::vector<std::pair<int64_t, int64_t>>{{27, 3}, {9, 9}, {3, 27}, {1, 81}}));
}

TEST(HyperbandBrackets, SMaxIsExactForPowers) {
  EXPECT_EQ(hyperband_s_max(1, 81, 3), 4);
  EXPECT_EQ(hyperband_s_max(1, 80, 3), 3);
  EXPECT_EQ(hyperband_s_max(1, 242, 3), 4);
  EXPECT_EQ(hyperband_s_max(1, 243, 3), 5);
  EXPECT_EQ(hyperband_s_max(1, 1000, 10), 3);  // 10^3 in floating point is exact; log10 might not be
  EXPECT_EQ(hyperband_s_max(3, 3 * 1024, 2), 10);
  EXPECT_EQ(hyperband_s_max(81, 81, 3), 0);
  EXPECT_EQ(hyperband_s_max(2, 81, 3), 3);
}

TEST(HyperbandBrackets, InvalidOptionsAreConfigErrors) {
  EXPECT_THROW(hyperband_brackets(1, 81, 1), ConfigError);
  EXPECT_THROW(hyperband_brackets(0, 81, 3), ConfigError);
  EXPECT_THROW(hyperband_brackets(90, 81, 3), ConfigError);
  EXPECT_THROW(hyperband_brackets(1, 0, 3), ConfigError);
  // eta 1.05 over 1..3 steps: many rungs that round to the same step.
  EXPECT_THROW(hyperband_brackets(1, 3, 1.05), ConfigError);
  HyperbandOptions o;
  o.iterations = 0;
  EXPECT_THROW(make_hyperband_scheduler(o), ConfigError);
}

HyperbandOptions opts(int64_t min_t, int64_t max_t, int iterations = 1) {
  HyperbandOptions o;
  o.min_t = min_t;
  o.max_t = max_t;
  o.iterations = iterations;
  return o;
}

// Starts one new trial the way the coordinator does; expects next() to offer one.
TrialId start(Scheduler& s, TrialId id, int expect_bracket, int64_t expect_budget) {
  const Assignment a = s.next(true).assignment;
  EXPECT_EQ(a.kind, Assignment::Kind::NewTrial);
  EXPECT_EQ(a.bracket, expect_bracket);
  EXPECT_EQ(a.budget, static_cast<double>(expect_budget));
  EXPECT_EQ(s.on_trial_start(id, HParams{}, a).until, expect_budget);
  return id;
}

// R = 9, eta = 3: brackets 9@1 3@3 1@9 | 5@3 1@9 | 3@9.
TEST(Hyperband, OneBracketPausesJudgesStopsAndResumes) {
  auto s = make_hyperband_scheduler(opts(1, 9));
  EXPECT_EQ(s->name(), "hyperband");
  EXPECT_EQ(s->max_steps(), 9);
  // Losses: trial i scores kLoss[i]; the three best are 4 (0.1), 7 (0.2), 1 (0.3).
  const double kLoss[9] = {0.9, 0.3, 0.8, 0.7, 0.1, 0.6, 0.5, 0.2, 0.4};
  for (TrialId i = 0; i < 9; ++i) start(*s, i, 0, 1);
  for (TrialId i = 0; i < 8; ++i) {
    const Decisions ds = s->on_segment_end(i, 1, kLoss[i]);
    const Decision& d = ds.own;
    EXPECT_EQ(d.action, Action::Pause) << i;
    EXPECT_EQ(d.bracket, 0);
    EXPECT_EQ(d.rung, 0);
    EXPECT_TRUE(ds.others.empty());
  }
  // The last result judges the rung: 8 (0.4) is fourth, so it stops itself; keep 3.
  const Decisions judged = s->on_segment_end(8, 1, kLoss[8]);
  const Decision& last = judged.own;
  EXPECT_EQ(last.action, Action::Stop);
  EXPECT_EQ(last.bracket, 0);
  EXPECT_EQ(last.rung, 0);
  EXPECT_EQ(last.reason, "bracket 0 rung 0 (1 steps): rank 4 of 9, keep 3");
  std::set<TrialId> stopped;
  for (const auto& td : judged.others) {
    EXPECT_EQ(td.decision.action, Action::Stop);
    EXPECT_EQ(td.decision.bracket, 0);
    EXPECT_EQ(td.decision.rung, 0);
    stopped.insert(td.trial);
  }
  EXPECT_EQ(stopped, (std::set<TrialId>{0, 2, 3, 5, 6}));
  // Winners resume best first, to the next rung's budget; the stops were handed over once.
  for (TrialId want : {4, 7, 1}) {
    const NextWork work = s->next(true);
    EXPECT_TRUE(work.others.empty());
    const Assignment& a = work.assignment;
    ASSERT_EQ(a.kind, Assignment::Kind::Resume);
    EXPECT_EQ(a.trial, want);
    EXPECT_EQ(a.until, 3);
  }
  // Rung 1 (3 steps): 7 arrives last and wins (keep 1); 4 and 1 were paused and stop.
  EXPECT_EQ(s->on_segment_end(4, 3, 0.25).own.action, Action::Pause);
  EXPECT_EQ(s->on_segment_end(1, 3, 0.3).own.action, Action::Pause);
  const Decisions rung1 = s->on_segment_end(7, 3, 0.05);
  const Decision& win = rung1.own;
  EXPECT_EQ(win.action, Action::Continue);
  EXPECT_EQ(win.until, 9);
  EXPECT_EQ(win.rung, 1);
  EXPECT_EQ(win.reason, "bracket 0 rung 1 (3 steps): rank 1 of 3, keep 1: promoted to 9 steps");
  const OtherDecisions& stops = rung1.others;
  ASSERT_EQ(stops.size(), 2u);
  EXPECT_EQ(stops[0].trial, 4);  // in rank order
  EXPECT_EQ(stops[1].trial, 1);
  const Decision done = s->on_segment_end(7, 9, 0.01).own;
  EXPECT_EQ(done.action, Action::Complete);
  EXPECT_EQ(done.rung, 2);
  EXPECT_EQ(done.bracket, 0);
  // Bracket 1 comes next: 5 configurations at 3 steps.
  start(*s, 9, 1, 3);
}

TEST(Hyperband, TiesGoToTheLowerTrialId) {
  auto s = make_hyperband_scheduler(opts(1, 9));
  for (TrialId i = 0; i < 9; ++i) start(*s, i, 0, 1);
  for (TrialId i = 8; i >= 1; --i) EXPECT_EQ(s->on_segment_end(i, 1, 1.0).own.action, Action::Pause);
  const Decisions ds = s->on_segment_end(0, 1, 1.0);
  EXPECT_EQ(ds.own.action, Action::Continue);  // all tied: 0, 1, 2 win
  EXPECT_EQ(ds.others.size(), 6u);             // 3..8 lose
  EXPECT_EQ(s->next(true).assignment.trial, 1);
  EXPECT_EQ(s->next(true).assignment.trial, 2);
}

TEST(Hyperband, NextBracketStartsWhileOneWaits) {
  auto s = make_hyperband_scheduler(opts(1, 9));
  for (TrialId i = 0; i < 9; ++i) start(*s, i, 0, 1);
  for (TrialId i = 0; i < 8; ++i) EXPECT_EQ(s->on_segment_end(i, 1, static_cast<double>(i)).own.action, Action::Pause);
  // Trial 8 still runs: bracket 0 cannot move, so an idle group starts bracket 1.
  for (TrialId i = 9; i < 14; ++i) start(*s, i, 1, 3);
  start(*s, 14, 2, 9);
  start(*s, 15, 2, 9);
  start(*s, 16, 2, 9);
  // Every configuration of the iteration has started; the rest waits on running trials.
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Wait);
  // Once the rung is judged, its winners come before anything else.
  EXPECT_EQ(s->on_segment_end(8, 1, 8.0).others.size(), 5u);  // 3..7 were paused; 8 stops itself
  const Assignment a = s->next(true).assignment;
  EXPECT_EQ(a.kind, Assignment::Kind::Resume);
  EXPECT_EQ(a.trial, 0);
  EXPECT_EQ(a.bracket, 0);
}

TEST(Hyperband, WaitWhileRunningThenDone) {
  auto s = make_hyperband_scheduler(opts(5, 5));  // s_max = 0: one bracket of 1 trial at 5
  start(*s, 0, 0, 5);
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Wait);
  const Decision d = s->on_segment_end(0, 5, 0.5).own;
  EXPECT_EQ(d.action, Action::Complete);
  EXPECT_EQ(d.bracket, 0);
  EXPECT_EQ(d.rung, 0);
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Done);
  EXPECT_EQ(s->next(false).assignment.kind, Assignment::Kind::Done);
}

TEST(Hyperband, FailedPausedTrialGivesItsSlotToTheNextBest) {
  auto s = make_hyperband_scheduler(opts(1, 9));
  for (TrialId i = 0; i < 9; ++i) start(*s, i, 0, 1);
  for (TrialId i = 0; i < 8; ++i) EXPECT_EQ(s->on_segment_end(i, 1, static_cast<double>(i)).own.action, Action::Pause);  // 0 is best
  EXPECT_TRUE(s->on_trial_failed(0).empty());  // e.g. stopped from outside while paused
  const Decisions ds = s->on_segment_end(8, 1, 8.0);
  EXPECT_EQ(ds.own.action, Action::Stop);
  std::set<TrialId> stopped;
  for (const auto& td : ds.others) stopped.insert(td.trial);
  EXPECT_EQ(stopped, (std::set<TrialId>{4, 5, 6, 7}));  // no decision for the failed one
  std::vector<TrialId> resumed;
  for (int i = 0; i < 3; ++i) resumed.push_back(s->next(true).assignment.trial);
  EXPECT_EQ(resumed, (std::vector<TrialId>{1, 2, 3}));
}

TEST(Hyperband, RunningFailureCompletesTheRung) {
  auto s = make_hyperband_scheduler(opts(1, 9));
  for (TrialId i = 0; i < 9; ++i) start(*s, i, 0, 1);
  for (TrialId i = 1; i < 9; ++i) EXPECT_EQ(s->on_segment_end(i, 1, static_cast<double>(i)).own.action, Action::Pause);
  const OtherDecisions stops = s->on_trial_failed(0);  // the last missing result: the rung is judged now
  EXPECT_EQ(stops.size(), 5u);  // 4..8 lose; 1, 2, 3 win; 0 failed
  std::vector<TrialId> resumed;
  for (int i = 0; i < 3; ++i) resumed.push_back(s->next(true).assignment.trial);
  EXPECT_EQ(resumed, (std::vector<TrialId>{1, 2, 3}));
  // A promoted trial that fails while waiting leaves the queue and counts +inf at rung 1.
  EXPECT_TRUE(s->on_trial_failed(2).empty());
  EXPECT_EQ(s->on_segment_end(1, 3, 0.5).own.action, Action::Pause);
  const Decisions ds = s->on_segment_end(3, 3, 0.7);
  EXPECT_TRUE(ds.others.empty());  // 1 won; it is resumed, not stopped
  const Decision& d = ds.own;
  EXPECT_EQ(d.action, Action::Stop);
  EXPECT_EQ(d.reason, "bracket 0 rung 1 (3 steps): rank 2 of 3, keep 1");
  const Assignment a = s->next(true).assignment;
  ASSERT_EQ(a.kind, Assignment::Kind::Resume);
  EXPECT_EQ(a.trial, 1);
  EXPECT_EQ(a.until, 9);
  // Failures of unknown or finished trials are ignored.
  EXPECT_TRUE(s->on_trial_failed(42).empty());
  EXPECT_TRUE(s->on_trial_failed(5).empty());
}

TEST(Hyperband, AllFailedEndsTheBracket) {
  auto s = make_hyperband_scheduler(opts(1, 3));  // s_max = 1: 3@1 1@3 | 2@3
  for (TrialId i = 0; i < 3; ++i) start(*s, i, 0, 1);
  for (TrialId i = 0; i < 3; ++i) EXPECT_TRUE(s->on_trial_failed(i).empty());
  start(*s, 3, 1, 3);  // bracket 0 is over, nothing to resume
}

// ---- whole runs: a tiny stand-in for the coordinator ----

struct Driver {
  explicit Driver(Scheduler& sched, int groups) : s(sched), groups(groups) {}

  Scheduler& s;
  int groups;
  int64_t max_trials = std::numeric_limits<int64_t>::max();
  std::function<double(TrialId, int64_t)> loss = [](TrialId, int64_t) { return 1.0; };
  std::set<std::pair<TrialId, int64_t>> fail_at;  // (trial, until): fails instead of finishing

  struct Seg {
    TrialId trial;
    int64_t until;
  };
  std::deque<Seg> running;  // segments end in the order they started
  enum class St { Running, Paused, Stopped, Completed, Failed };
  std::map<TrialId, St> st;
  std::map<TrialId, int> bracket_of;
  std::map<std::pair<int, int64_t>, int> results;  // (bracket, step) -> results reported
  std::map<int, std::set<TrialId>> completed;      // per bracket
  TrialId next_id = 0;
  bool overlapped = false;  // a bracket started while an earlier one had paused trials
  int paused_count = 0, resumed_count = 0, take_stops = 0;

  void take(const OtherDecisions& others) {
    for (const auto& td : others) {
      ASSERT_EQ(td.decision.action, Action::Stop);
      ASSERT_EQ(st.at(td.trial), St::Paused) << "decision for a trial that is not paused";
      ASSERT_EQ(td.decision.bracket, bracket_of.at(td.trial));
      st[td.trial] = St::Stopped;
      ++take_stops;
    }
  }

  // Gives every idle group work; false once next() said Done.
  bool fill() {
    while (static_cast<int>(running.size()) < groups) {
      const bool can = next_id < max_trials;
      const NextWork work = s.next(can);
      take(work.others);
      const Assignment& a = work.assignment;
      if (a.kind == Assignment::Kind::NewTrial) {
        EXPECT_TRUE(can);
        const TrialId id = next_id++;
        for (const auto& [t, b] : bracket_of)
          if (b < a.bracket && st[t] == St::Paused) overlapped = true;
        const TrialStart started = s.on_trial_start(id, HParams{}, a);
        take(started.others);
        const int64_t until = started.until;
        EXPECT_EQ(static_cast<double>(until), a.budget);
        st[id] = St::Running;
        bracket_of[id] = a.bracket;
        running.push_back({id, until});
      } else if (a.kind == Assignment::Kind::Resume) {
        EXPECT_EQ(st.at(a.trial), St::Paused);
        st[a.trial] = St::Running;
        ++resumed_count;
        running.push_back({a.trial, a.until});
      } else {
        if (a.kind == Assignment::Kind::Wait) {
          EXPECT_FALSE(running.empty()) << "Wait with nothing running";
        }
        return a.kind != Assignment::Kind::Done;
      }
    }
    return true;
  }

  void finish_one() {
    const Seg seg = running.front();
    running.pop_front();
    if (fail_at.count({seg.trial, seg.until})) {
      st[seg.trial] = St::Failed;
      take(s.on_trial_failed(seg.trial));
      return;
    }
    ++results[{bracket_of.at(seg.trial), seg.until}];
    const Decisions ds = s.on_segment_end(seg.trial, seg.until, loss(seg.trial, seg.until));
    take(ds.others);
    const Decision& d = ds.own;
    EXPECT_EQ(d.bracket, bracket_of.at(seg.trial));
    EXPECT_GE(d.rung, 0);
    switch (d.action) {
      case Action::Continue:
        EXPECT_GT(d.until, seg.until);
        running.push_back({seg.trial, d.until});
        break;
      case Action::Pause:
        st[seg.trial] = St::Paused;
        ++paused_count;
        break;
      case Action::Stop:
        st[seg.trial] = St::Stopped;
        break;
      case Action::Complete:
        st[seg.trial] = St::Completed;
        completed[bracket_of.at(seg.trial)].insert(seg.trial);
        break;
      case Action::Clone:
      case Action::Rebase:
        ADD_FAILURE() << "hyperband never clones";
    }
  }

  void run() {
    int guard = 0;
    while (fill()) {
      ASSERT_FALSE(running.empty());
      finish_one();
      ASSERT_LT(++guard, 100000);
    }
    EXPECT_TRUE(running.empty());
    for (const auto& [id, state] : st) EXPECT_NE(state, St::Paused) << "trial " << id << " left paused";
  }
};

// Quality depends on the trial only and improves with steps, so every rung ranks trials alike.
double base_loss(TrialId id) { return std::fmod(static_cast<double>(id) * 0.618033988749895, 1.0); }

TEST(HyperbandRun, WholeIterationMatchesTheTable) {
  auto s = make_hyperband_scheduler(opts(1, 81));
  Driver run(*s, 5);
  run.loss = [](TrialId id, int64_t step) { return base_loss(id) * (1 + 1.0 / static_cast<double>(step)); };
  run.run();
  const auto table = hyperband_brackets(1, 81, 3);
  int64_t trials = 0;
  for (size_t b = 0; b < table.size(); ++b) {
    for (const auto& r : table[b].rungs)
      EXPECT_EQ((run.results[{static_cast<int>(b), r.budget}]), r.n) << "bracket " << b << " budget " << r.budget;
    trials += table[b].rungs.front().n;
    // The completed trials are the bracket's best by base loss.
    std::vector<std::pair<double, TrialId>> members;
    for (const auto& [id, br] : run.bracket_of)
      if (br == static_cast<int>(b)) members.emplace_back(base_loss(id), id);
    std::sort(members.begin(), members.end());
    std::set<TrialId> best;
    for (int64_t i = 0; i < table[b].rungs.back().n; ++i) best.insert(members[static_cast<size_t>(i)].second);
    EXPECT_EQ(run.completed[static_cast<int>(b)], best) << "bracket " << b;
  }
  EXPECT_EQ(run.next_id, trials);  // 81 + 34 + 15 + 8 + 5 = 143
  EXPECT_EQ(trials, 143);
  EXPECT_TRUE(run.overlapped);
  EXPECT_GT(run.take_stops, 0);
  EXPECT_GT(run.resumed_count, 0);
}

TEST(HyperbandRun, IterationsRepeatTheBrackets) {
  auto s = make_hyperband_scheduler(opts(1, 27, 2));
  Driver run(*s, 3);
  run.loss = [](TrialId id, int64_t) { return base_loss(id); };
  run.run();
  const auto table = hyperband_brackets(1, 27, 3);
  for (int it = 0; it < 2; ++it)
    for (size_t b = 0; b < table.size(); ++b)
      for (const auto& r : table[b].rungs)
        EXPECT_EQ((run.results[{it * 4 + static_cast<int>(b), r.budget}]), r.n);
  EXPECT_EQ(run.next_id, 2 * (27 + 12 + 6 + 4));
}

TEST(HyperbandRun, FailuresNeverBlockARung) {
  auto s = make_hyperband_scheduler(opts(1, 27));
  Driver run(*s, 4);
  run.loss = [](TrialId id, int64_t) { return base_loss(id); };
  // Trial 3 fails in its first segment; the best trial of bracket 0 fails after promotion.
  TrialId best0 = 0;
  for (TrialId i = 0; i < 27; ++i)
    if (base_loss(i) < base_loss(best0)) best0 = i;
  run.fail_at = {{3, 1}, {best0, 3}};
  run.run();
  EXPECT_EQ((run.results[{0, 1}]), 26);  // 27 started, one failed
  EXPECT_EQ((run.results[{0, 3}]), 8);   // 9 promoted, one failed
  EXPECT_EQ((run.results[{0, 9}]), 3);   // floor(9 / 3): the failure counts as a result
  EXPECT_EQ((run.results[{0, 27}]), 1);
  EXPECT_EQ(run.st.at(3), Driver::St::Failed);
  EXPECT_EQ(run.st.at(best0), Driver::St::Failed);
}

TEST(HyperbandRun, NoNewTrialsShrinksTheBracket) {
  auto s = make_hyperband_scheduler(opts(1, 27));
  Driver run(*s, 4);
  run.max_trials = 10;
  run.loss = [](TrialId id, int64_t) { return base_loss(id); };
  run.run();
  // Bracket 0 got 10 of its 27: 10@1 -> 3@3 -> 1@9 -> 1@27; nothing else ran.
  EXPECT_EQ((run.results[{0, 1}]), 10);
  EXPECT_EQ((run.results[{0, 3}]), 3);
  EXPECT_EQ((run.results[{0, 9}]), 1);
  EXPECT_EQ((run.results[{0, 27}]), 1);
  EXPECT_EQ(run.next_id, 10);
  EXPECT_EQ(run.completed[0].size(), 1u);
}

TEST(HyperbandRun, ShrinkWhileTrialsAreStillRunning) {
  // The first rung is judged when next(false) comes, after some results are already in.
  auto s = make_hyperband_scheduler(opts(1, 9));
  for (TrialId i = 0; i < 4; ++i) start(*s, i, 0, 1);
  for (TrialId i = 0; i < 4; ++i) EXPECT_EQ(s->on_segment_end(i, 1, static_cast<double>(i)).own.action, Action::Pause);
  const NextWork work = s->next(false);  // no more trials: bracket 0 keeps 4, keeps floor(4/3) = 1
  const Assignment& a = work.assignment;
  ASSERT_EQ(a.kind, Assignment::Kind::Resume);
  EXPECT_EQ(a.trial, 0);
  EXPECT_EQ(a.until, 3);
  EXPECT_EQ(work.others.size(), 3u);  // the rung judged by next(false): 1, 2, 3 stop
  EXPECT_EQ(s->next(false).assignment.kind, Assignment::Kind::Wait);
  EXPECT_EQ(s->on_segment_end(0, 3, 0.0).own.action, Action::Continue);  // alone at rung 1
  EXPECT_EQ(s->on_segment_end(0, 9, 0.0).own.action, Action::Complete);
  EXPECT_EQ(s->next(false).assignment.kind, Assignment::Kind::Done);
}

TEST(HyperbandRun, SameEventsSameDecisions) {
  auto trace = [] {
    auto s = make_hyperband_scheduler(opts(1, 27));
    Driver run(*s, 3);
    run.loss = [](TrialId id, int64_t step) { return base_loss(id * 7 + step); };
    run.run();
    return std::make_pair(run.results, run.completed);
  };
  EXPECT_EQ(trace(), trace());
}

}  // namespace
}  // namespace mpitune
