// PBT: quantile sizes, explore (clipping, rounding, neighbours, resample rate), asynchronous
// exploit with the source's step, burn-in, turn-taking when the population outnumbers the
// groups, synchronous barriers (own decision + decisions about others: deferred clones as
// Rebase), failures,
// and identical decisions for identical events.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "mpitune/core/error.hpp"
#include "mpitune/sched/pbt.hpp"

namespace mpitune {
namespace {

Space test_space() {
  return Space({Space::parse_domain("lr", "loguniform(1e-4, 1e-1)"), Space::parse_domain("wd", "uniform(0, 0.2)"),
                Space::parse_domain("layers", "int(2, 6)"), Space::parse_domain("opt", "choice(adam, sgd, rmsprop)")});
}

HParams hp_of(double lr, double wd, int64_t layers, const char* opt) {
  HParams hp;
  hp.set("lr", lr);
  hp.set("wd", wd);
  hp.set("layers", layers);
  hp.set("opt", opt);
  return hp;
}

TEST(PbtQuantile, CountsFollowRay) {
  EXPECT_EQ(pbt_quantile_count(8, 0.25), 2);
  EXPECT_EQ(pbt_quantile_count(5, 0.25), 2);
  EXPECT_EQ(pbt_quantile_count(3, 0.25), 1);
  EXPECT_EQ(pbt_quantile_count(2, 0.25), 1);
  EXPECT_EQ(pbt_quantile_count(1, 0.25), 0);
  EXPECT_EQ(pbt_quantile_count(0, 0.25), 0);
  EXPECT_EQ(pbt_quantile_count(4, 0.25), 1);
  EXPECT_EQ(pbt_quantile_count(12, 0.25), 3);  // exactly 3, not rounded up to 4
  EXPECT_EQ(pbt_quantile_count(5, 0.5), 2);    // ceil(2.5) capped at floor(5 / 2)
  EXPECT_EQ(pbt_quantile_count(8, 0.0), 0);
}

TEST(PbtExplore, PerturbsByAFactorAndClipsToBounds) {
  const Space space = test_space();
  PbtOptions o;
  o.resample_probability = 0;
  std::set<double> lrs, wds;
  std::set<int64_t> layers_from_6, layers_from_5;
  std::set<std::string> from_adam, from_sgd;
  for (uint64_t i = 0; i < 200; ++i) {
    Rng rng(derive_seed(1, "explore", i));
    const HParams top = pbt_explore(space, hp_of(0.1, 0.05, 6, "adam"), rng, o);
    lrs.insert(top.at("lr").as_double());
    wds.insert(top.at("wd").as_double());
    ASSERT_TRUE(top.at("layers").is_int());
    layers_from_6.insert(top.at("layers").as_int());
    from_adam.insert(top.at("opt").as_string());
    const HParams mid = pbt_explore(space, hp_of(0.01, 0.05, 5, "sgd"), rng, o);
    layers_from_5.insert(mid.at("layers").as_int());
    from_sgd.insert(mid.at("opt").as_string());
  }
  EXPECT_EQ(lrs, (std::set<double>{0.1 * 0.8, 0.1}));           // 0.12 clipped to the bound 0.1
  EXPECT_EQ(wds, (std::set<double>{0.05 * 0.8, 0.05 * 1.2}));
  EXPECT_EQ(layers_from_6, (std::set<int64_t>{5, 6}));           // 4.8 -> 5, 7.2 -> 6
  EXPECT_EQ(layers_from_5, (std::set<int64_t>{4, 6}));           // 4, 6
  EXPECT_EQ(from_adam, (std::set<std::string>{"adam", "sgd"}));  // -1 clamps at the first choice
  EXPECT_EQ(from_sgd, (std::set<std::string>{"adam", "rmsprop"}));
}

TEST(PbtExplore, ResamplesWithTheConfiguredProbability) {
  const Space space({Space::parse_domain("x", "uniform(0, 1)")});
  PbtOptions o;  // resample_probability 0.25
  int resampled = 0, up = 0, down = 0;
  const int n = 4000;
  Rng rng(7);
  HParams hp;
  hp.set("x", 0.5);
  for (int i = 0; i < n; ++i) {
    const double x = pbt_explore(space, hp, rng, o).at("x").as_double();
    if (x == 0.5 * 1.2) ++up;
    else if (x == 0.5 * 0.8) ++down;
    else ++resampled;
  }
  EXPECT_NEAR(static_cast<double>(resampled) / n, 0.25, 0.03);
  EXPECT_NEAR(static_cast<double>(up) / (up + down), 0.5, 0.04);
  // Probability 1: everything comes from the prior, inside the bounds.
  o.resample_probability = 1;
  const Space full = test_space();
  for (int i = 0; i < 100; ++i) {
    const HParams e = pbt_explore(full, hp_of(0.01, 0.1, 4, "sgd"), rng, o);
    EXPECT_GE(e.at("lr").as_double(), 1e-4);
    EXPECT_LE(e.at("lr").as_double(), 1e-1);
    EXPECT_GE(e.at("layers").as_int(), 2);
    EXPECT_LE(e.at("layers").as_int(), 6);
  }
}

TEST(PbtExplore, SameStreamSameResultAndExtraNamesKept) {
  const Space space = test_space();
  HParams hp = hp_of(0.01, 0.1, 4, "sgd");
  hp.set("note", "kept");
  PbtOptions o;
  Rng a(99), b(99);
  const HParams x = pbt_explore(space, hp, a, o), y = pbt_explore(space, hp, b, o);
  EXPECT_EQ(x, y);
  EXPECT_EQ(x.at("note").as_string(), "kept");
}

TEST(Pbt, InvalidOptionsAreConfigErrors) {
  const Space space = test_space();
  auto bad = [&](auto change) {
    PbtOptions o;
    change(o);
    EXPECT_THROW(make_pbt_scheduler(space, 0, o), ConfigError);
  };
  bad([](PbtOptions& o) { o.population = 0; });
  bad([](PbtOptions& o) { o.perturbation_interval = 0; });
  bad([](PbtOptions& o) { o.quantile_fraction = 0.6; });
  bad([](PbtOptions& o) { o.resample_probability = 1.5; });
  bad([](PbtOptions& o) { o.perturbation_factors = {}; });
  bad([](PbtOptions& o) { o.perturbation_factors = {0.8, -1}; });
  bad([](PbtOptions& o) { o.burn_in = -1; });
}

PbtOptions small(int population, int64_t max_t = 100) {
  PbtOptions o;
  o.population = population;
  o.perturbation_interval = 10;
  o.max_t = max_t;
  return o;
}

// Creates the whole population; expects NewTrial each time.
void create(Scheduler& s, int n, std::map<TrialId, HParams>* hps = nullptr) {
  for (TrialId id = 0; id < n; ++id) {
    const Assignment a = s.next(true).assignment;
    ASSERT_EQ(a.kind, Assignment::Kind::NewTrial);
    EXPECT_EQ(a.budget, 10);
    const HParams hp = hp_of(0.001 * static_cast<double>(id + 1), 0.01, 3, "sgd");
    if (hps) (*hps)[id] = hp;
    EXPECT_EQ(s.on_trial_start(id, hp, a).until, 10);
  }
}

TEST(PbtAsync, BottomTrialClonesATopTrialFromTheSourcesStep) {
  const Space space = test_space();
  const PbtOptions o = small(4);
  auto s = make_pbt_scheduler(space, 5, o);
  EXPECT_EQ(s->name(), "pbt");
  EXPECT_EQ(s->max_steps(), 100);
  std::map<TrialId, HParams> hps;
  create(*s, 4, &hps);
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Wait);  // population complete, all running
  // Step 10: each is ranked among those with a score so far; none is ever in a bottom quantile.
  const double first[4] = {0.4, 0.3, 0.2, 0.1};
  for (TrialId id = 0; id < 4; ++id) {
    const Decision d = s->on_segment_end(id, 10, first[id]).own;
    EXPECT_EQ(d.action, Action::Continue) << id << ": " << d.reason;
    EXPECT_EQ(d.until, 20);
  }
  // Trial 0 reaches 20 with the worst loss: bottom 1 of 4 -> clone the top trial, 3, whose last
  // segment ended at step 10, so trial 0 restarts from step 10 and runs to 20.
  const Decisions cloned = s->on_segment_end(0, 20, 0.5);
  EXPECT_TRUE(cloned.others.empty());  // asynchronous: only ever about the trial that arrived
  const Decision& c = cloned.own;
  ASSERT_EQ(c.action, Action::Clone) << c.reason;
  EXPECT_EQ(c.source, 3);
  EXPECT_EQ(c.until, 20);
  Rng rng(derive_seed(derive_seed(5, "pbt", 0), "exploit", 20));  // the documented stream
  EXPECT_EQ(c.hparams, pbt_explore(space, hps[3], rng, o));
  EXPECT_NE(c.reason.find("clone trial 3"), std::string::npos) << c.reason;
  // The clone has no score until it reports again, so it is neither ranked nor copied from.
  const Decision d1 = s->on_segment_end(1, 20, 0.05).own;
  EXPECT_EQ(d1.action, Action::Continue);
  EXPECT_NE(d1.reason.find("rank 1 of 3"), std::string::npos) << d1.reason;
  // Trial 2 is now the worst of 1 (0.05), 3 (0.1), 2 (0.6): k = 1, it clones the top, 1 (step 20).
  const Decision d2 = s->on_segment_end(2, 20, 0.6).own;
  ASSERT_EQ(d2.action, Action::Clone);
  EXPECT_EQ(d2.source, 1);
  EXPECT_EQ(d2.until, 30);
  // The cloned trial reports from its new state: step 20, ranked again.
  EXPECT_EQ(s->on_segment_end(0, 20, 0.01).own.action, Action::Continue);
}

TEST(PbtAsync, BurnInDelaysExploit) {
  const Space space = test_space();
  PbtOptions o = small(2);
  o.burn_in = 30;
  auto s = make_pbt_scheduler(space, 1, o);
  create(*s, 2);
  EXPECT_EQ(s->on_segment_end(0, 10, 0.1).own.action, Action::Continue);
  const Decision early = s->on_segment_end(1, 10, 0.9).own;  // bottom of 2, but before burn_in
  EXPECT_EQ(early.action, Action::Continue);
  EXPECT_NE(early.reason.find("burn_in"), std::string::npos);
  EXPECT_EQ(s->on_segment_end(0, 20, 0.1).own.action, Action::Continue);
  EXPECT_EQ(s->on_segment_end(1, 20, 0.9).own.action, Action::Continue);
  EXPECT_EQ(s->on_segment_end(0, 30, 0.1).own.action, Action::Continue);
  const Decision d = s->on_segment_end(1, 30, 0.9).own;  // step 30 >= burn_in: exploit
  EXPECT_EQ(d.action, Action::Clone);
  EXPECT_EQ(d.source, 0);
  EXPECT_EQ(d.until, 40);
}

TEST(PbtAsync, LastSegmentIsShortAndEndsComplete) {
  auto s = make_pbt_scheduler(test_space(), 1, small(1, 25));
  create(*s, 1);
  EXPECT_EQ(s->on_segment_end(0, 10, 0.5).own.until, 20);
  EXPECT_EQ(s->on_segment_end(0, 20, 0.5).own.until, 25);  // min(step + interval, max_t)
  const Decision d = s->on_segment_end(0, 25, 0.5).own;
  EXPECT_EQ(d.action, Action::Complete);
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Done);  // completed trials are not replaced
}

TEST(PbtAsync, FailedTrialsAreReplacedOnlyWhileNewTrialsMayStart) {
  auto s = make_pbt_scheduler(test_space(), 1, small(2));
  create(*s, 2);
  EXPECT_TRUE(s->on_trial_failed(1).empty());
  EXPECT_TRUE(s->on_trial_failed(1).empty());  // twice is harmless
  EXPECT_TRUE(s->on_trial_failed(77).empty());
  const Assignment a = s->next(true).assignment;
  EXPECT_EQ(a.kind, Assignment::Kind::NewTrial);
  EXPECT_EQ(s->on_trial_start(2, HParams{}, a).until, 10);
  EXPECT_TRUE(s->on_trial_failed(2).empty());
  EXPECT_EQ(s->next(false).assignment.kind, Assignment::Kind::Wait);  // trial 0 still runs
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Wait);   // closed for good
  EXPECT_TRUE(s->on_trial_failed(0).empty());
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Done);
}

TEST(PbtTurns, PopulationLargerThanGroupsTakesTurns) {
  // Three trials, one group: trials yield their group at each interval end to whoever is
  // furthest behind (slots still to create first); a clone never yields.
  auto s = make_pbt_scheduler(test_space(), 3, small(3, 40));
  Assignment a = s->next(true).assignment;
  ASSERT_EQ(a.kind, Assignment::Kind::NewTrial);
  EXPECT_EQ(s->on_trial_start(0, hp_of(0.01, 0.1, 3, "sgd"), a).until, 10);
  Decision d = s->on_segment_end(0, 10, 0.3).own;
  EXPECT_EQ(d.action, Action::Pause);
  EXPECT_NE(d.reason.find("slots still to be created"), std::string::npos) << d.reason;
  a = s->next(true).assignment;
  ASSERT_EQ(a.kind, Assignment::Kind::NewTrial);
  EXPECT_EQ(s->on_trial_start(1, hp_of(0.02, 0.1, 3, "sgd"), a).until, 10);
  EXPECT_EQ(s->on_segment_end(1, 10, 0.2).own.action, Action::Pause);
  a = s->next(true).assignment;
  ASSERT_EQ(a.kind, Assignment::Kind::NewTrial);
  EXPECT_EQ(s->on_trial_start(2, hp_of(0.03, 0.1, 3, "sgd"), a).until, 10);
  d = s->on_segment_end(2, 10, 0.1).own;  // best of three: not bottom; 0 and 1 wait at step 10
  EXPECT_EQ(d.action, Action::Pause);
  EXPECT_NE(d.reason.find("trial 0 (step 10) waits for a group"), std::string::npos) << d.reason;
  // Population complete: resumes go to the furthest behind, lowest id first.
  a = s->next(true).assignment;
  ASSERT_EQ(a.kind, Assignment::Kind::Resume);
  EXPECT_EQ(a.trial, 0);
  EXPECT_EQ(a.until, 20);
  // Trial 0 is the worst: it clones trial 2 now (from step 10) instead of waiting.
  d = s->on_segment_end(0, 20, 0.9).own;
  ASSERT_EQ(d.action, Action::Clone);
  EXPECT_EQ(d.source, 2);
  EXPECT_EQ(d.until, 20);
  // Trial 0 reports from its new state; 1 and 2 (step 10) wait, so it yields.
  EXPECT_EQ(s->on_segment_end(0, 20, 0.05).own.action, Action::Pause);
  a = s->next(true).assignment;
  EXPECT_EQ(a.trial, 1);
  EXPECT_EQ(a.until, 20);
  EXPECT_EQ(s->on_segment_end(1, 20, 0.08).own.action, Action::Pause);  // 2 at 10 is behind
  a = s->next(true).assignment;
  EXPECT_EQ(a.trial, 2);
  EXPECT_EQ(s->on_segment_end(2, 20, 0.07).own.action, Action::Pause);  // 0 and 1 at 20 wait
  a = s->next(true).assignment;
  EXPECT_EQ(a.trial, 0);
  EXPECT_EQ(a.until, 30);
}

// ---- a tiny stand-in for the coordinator, following pbt.hpp's contract ----

struct Driver {
  Driver(Scheduler& sched, int groups, const PbtOptions& o) : s(sched), groups(groups), o(o) {}

  Scheduler& s;
  int groups;
  PbtOptions o;
  std::function<double(const HParams&, int64_t)> loss = [](const HParams& hp, int64_t step) {
    const double lr = hp.at("lr").as_double();
    return std::pow(std::log10(lr) + 2.5, 2) + 10.0 / static_cast<double>(step);
  };
  std::set<std::pair<TrialId, int64_t>> fail_at;

  struct Seg {
    TrialId trial;
    int64_t start, until;
  };
  std::deque<Seg> running;
  std::map<TrialId, HParams> hp;
  std::map<TrialId, int64_t> state_step;   // the step its saved state is at
  std::map<TrialId, TrialId> deferred;     // clone target -> source, copied at resume
  std::set<TrialId> paused, completed, failed;
  std::vector<std::string> log;
  TrialId next_id = 0;
  int clones = 0, deferred_clones = 0, pauses = 0, max_running = 0;
  bool sync_barrier_ok = true;  // every clone happened with all live trials at one step

  int64_t until_from(int64_t step) const { return std::min(step + o.perturbation_interval, o.max_t); }

  void check_barrier() {
    if (!o.synchronous) return;
    std::set<int64_t> steps;
    for (const auto& [id, st] : state_step)
      if (!completed.count(id) && !failed.count(id)) steps.insert(st);
    if (steps.size() > 1) sync_barrier_ok = false;
  }

  void take(const OtherDecisions& others) {
    for (const auto& td : others) {
      ASSERT_EQ(td.decision.action, Action::Rebase);
      ASSERT_TRUE(paused.count(td.trial));
      check_barrier();
      hp[td.trial] = td.decision.hparams;
      deferred[td.trial] = td.decision.source;
      ++deferred_clones;
      log.push_back("take " + std::to_string(td.trial) + " <- " + std::to_string(td.decision.source) + " " +
                    td.decision.hparams.to_string());
    }
  }

  bool fill() {
    while (static_cast<int>(running.size()) < groups) {
      const NextWork work = s.next(true);
      take(work.others);
      const Assignment& a = work.assignment;
      if (a.kind == Assignment::Kind::NewTrial) {
        const TrialId id = next_id++;
        Rng rng(derive_seed(11, "init", static_cast<uint64_t>(id)));
        hp[id] = hp_of(std::pow(10.0, rng.uniform(-4, -1)), 0.1, 3, "sgd");
        const TrialStart started = s.on_trial_start(id, hp[id], a);
        take(started.others);
        const int64_t until = started.until;
        EXPECT_EQ(until, until_from(0));
        state_step[id] = 0;
        running.push_back({id, 0, until});
        log.push_back("new " + std::to_string(id));
      } else if (a.kind == Assignment::Kind::Resume) {
        EXPECT_TRUE(paused.erase(a.trial));
        int64_t start = state_step.at(a.trial);
        if (auto d = deferred.find(a.trial); d != deferred.end()) {
          start = state_step.at(d->second);  // copy the source's saved state now
          deferred.erase(d);
        }
        EXPECT_EQ(a.until, until_from(start));
        state_step[a.trial] = start;
        running.push_back({a.trial, start, a.until});
        log.push_back("resume " + std::to_string(a.trial) + " " + std::to_string(start));
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
    max_running = std::max(max_running, static_cast<int>(running.size()));
    const Seg seg = running.front();
    running.pop_front();
    const TrialId id = seg.trial;
    if (fail_at.count({id, seg.until})) {
      failed.insert(id);
      take(s.on_trial_failed(id));
      log.push_back("fail " + std::to_string(id));
      return;
    }
    state_step[id] = seg.until;
    const Decisions ds = s.on_segment_end(id, seg.until, loss(hp.at(id), seg.until));
    take(ds.others);
    const Decision& d = ds.own;
    log.push_back(std::to_string(id) + "@" + std::to_string(seg.until) + " " + action_name(d.action) + " " +
                  std::to_string(d.until) + " " + d.reason);
    switch (d.action) {
      case Action::Continue:
        running.push_back({id, seg.until, d.until});
        break;
      case Action::Clone:
        ASSERT_GT(d.until, 0);
        check_barrier();
        ++clones;
        hp[id] = d.hparams;
        state_step[id] = state_step.at(d.source);  // the source's last segment end
        EXPECT_EQ(d.until, until_from(state_step[id]));
        running.push_back({id, state_step[id], d.until});
        break;
      case Action::Pause:
        paused.insert(id);
        ++pauses;
        break;
      case Action::Complete:
        completed.insert(id);
        break;
      case Action::Stop:
        ADD_FAILURE() << "pbt never stops a trial";
        break;
      case Action::Rebase:
        ADD_FAILURE() << "a Rebase is never about the trial that arrived";
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
    EXPECT_TRUE(paused.empty());
  }
};

TEST(PbtRun, AsyncPopulationReachesMaxT) {
  const PbtOptions o = small(8, 100);
  auto s = make_pbt_scheduler(test_space(), 42, o);
  Driver d(*s, 8, o);
  d.run();
  EXPECT_EQ(d.next_id, 8);
  EXPECT_EQ(d.completed.size(), 8u);
  EXPECT_GT(d.clones, 0);
  EXPECT_EQ(d.pauses, 0);  // a group per trial: nobody takes turns
  // Exploit pulls the population toward the good learning rate (1e-2.5), from wherever the
  // initial draws put it.
  auto distances = [](const std::map<TrialId, HParams>& hps) {
    std::vector<double> out;
    for (const auto& [id, hp] : hps) out.push_back(std::fabs(std::log10(hp.at("lr").as_double()) + 2.5));
    std::sort(out.begin(), out.end());
    return out;
  };
  std::map<TrialId, HParams> initial;
  for (TrialId id = 0; id < 8; ++id) {
    Rng rng(derive_seed(11, "init", static_cast<uint64_t>(id)));  // as Driver::fill draws them
    initial[id] = hp_of(std::pow(10.0, rng.uniform(-4, -1)), 0.1, 3, "sgd");
  }
  const auto before = distances(initial), after = distances(d.hp);
  // Observed (seed 42): median |log10 lr + 2.5| 0.75 -> 0.09; 7 of 8 within 0.2 (one was just
  // resampled from the prior).
  EXPECT_LT(after[4], 0.5 * before[4]);
  EXPECT_LT(after[5], 0.25);
}

TEST(PbtRun, TurnTakingWithFewerGroups) {
  const PbtOptions o = small(6, 60);
  auto s = make_pbt_scheduler(test_space(), 42, o);
  Driver d(*s, 2, o);
  d.run();
  EXPECT_EQ(d.next_id, 6);
  EXPECT_EQ(d.completed.size(), 6u);
  EXPECT_GT(d.pauses, 6);
  EXPECT_EQ(d.max_running, 2);
  // The population is created before anyone trains a second interval.
  size_t first_resume = d.log.size(), last_new = 0;
  for (size_t i = 0; i < d.log.size(); ++i) {
    if (d.log[i].rfind("new ", 0) == 0) last_new = i;
    if (d.log[i].rfind("resume ", 0) == 0 && first_resume == d.log.size()) first_resume = i;
  }
  EXPECT_LT(last_new, first_resume);
}

TEST(PbtRun, SameSeedSameEventsSameDecisions) {
  auto trace = [](uint64_t seed, bool sync) {
    PbtOptions o = small(5, 50);
    o.synchronous = sync;
    auto s = make_pbt_scheduler(test_space(), seed, o);
    Driver d(*s, 3, o);
    d.run();
    return d.log;
  };
  EXPECT_EQ(trace(9, false), trace(9, false));
  EXPECT_EQ(trace(9, true), trace(9, true));
  EXPECT_NE(trace(9, false), trace(10, false));
}

TEST(PbtSync, BarrierRanksEveryoneAndDefersPausedClones) {
  PbtOptions o = small(3, 100);
  o.synchronous = true;
  const Space space = test_space();
  auto s = make_pbt_scheduler(space, 2, o);
  std::map<TrialId, HParams> hps;
  create(*s, 3, &hps);
  Decision d = s->on_segment_end(0, 10, 0.9).own;  // worst
  EXPECT_EQ(d.action, Action::Pause);
  EXPECT_NE(d.reason.find("2 trial(s) behind"), std::string::npos) << d.reason;
  EXPECT_EQ(s->on_segment_end(1, 10, 0.1).own.action, Action::Pause);  // best
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Wait);           // waiting trials are not resumed
  const Decisions barrier = s->on_segment_end(2, 10, 0.5);  // last: the barrier
  d = barrier.own;
  EXPECT_EQ(d.action, Action::Continue);
  EXPECT_EQ(d.until, 20);
  const OtherDecisions& td = barrier.others;
  ASSERT_EQ(td.size(), 1u);
  EXPECT_EQ(td[0].trial, 0);
  EXPECT_EQ(td[0].decision.action, Action::Rebase);  // deferred: copied at resume
  EXPECT_EQ(td[0].decision.source, 1);
  Rng rng(derive_seed(derive_seed(2, "pbt", 0), "exploit", 10));
  EXPECT_EQ(td[0].decision.hparams, pbt_explore(space, hps[1], rng, o));
  // The deferred clone is resumed first, from its source's step.
  Assignment a = s->next(true).assignment;
  ASSERT_EQ(a.kind, Assignment::Kind::Resume);
  EXPECT_EQ(a.trial, 0);
  EXPECT_EQ(a.until, 20);
  a = s->next(true).assignment;
  EXPECT_EQ(a.trial, 1);
  EXPECT_EQ(a.until, 20);
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::Wait);
}

TEST(PbtSync, ArrivingTrialClonesNowOrHoldsItsStateForClones) {
  PbtOptions o = small(3, 100);
  o.synchronous = true;
  {
    // The last to arrive is the worst: it clones at once from a waiting source.
    auto s = make_pbt_scheduler(test_space(), 2, o);
    create(*s, 3);
    EXPECT_EQ(s->on_segment_end(0, 10, 0.1).own.action, Action::Pause);
    EXPECT_EQ(s->on_segment_end(1, 10, 0.5).own.action, Action::Pause);
    const Decisions ds = s->on_segment_end(2, 10, 0.9);
    const Decision& d = ds.own;
    ASSERT_EQ(d.action, Action::Clone);
    EXPECT_EQ(d.source, 0);
    EXPECT_EQ(d.until, 20);
    EXPECT_TRUE(ds.others.empty());
  }
  {
    // The last to arrive is the best and trial 2 clones it: it pauses until the copy is made.
    auto s = make_pbt_scheduler(test_space(), 2, o);
    create(*s, 3);
    EXPECT_EQ(s->on_segment_end(1, 10, 0.5).own.action, Action::Pause);
    EXPECT_EQ(s->on_segment_end(2, 10, 0.9).own.action, Action::Pause);
    const Decisions ds = s->on_segment_end(0, 10, 0.1);
    const Decision& d = ds.own;
    EXPECT_EQ(d.action, Action::Pause);
    EXPECT_NE(d.reason.find("holds its state for the clones of trial(s) 2"), std::string::npos) << d.reason;
    const OtherDecisions& td = ds.others;
    ASSERT_EQ(td.size(), 1u);
    EXPECT_EQ(td[0].trial, 2);
    EXPECT_EQ(td[0].decision.action, Action::Rebase);
    EXPECT_EQ(td[0].decision.source, 0);
    std::vector<TrialId> order;
    for (int i = 0; i < 3; ++i) order.push_back(s->next(true).assignment.trial);
    EXPECT_EQ(order, (std::vector<TrialId>{2, 0, 1}));  // the deferred clone first, then by step and id
  }
}

TEST(PbtSync, FailureOrClosingCompletesABarrier) {
  PbtOptions o = small(3, 100);
  o.synchronous = true;
  {
    // While new trials may start, a failed trial is replaced and the barrier waits for it.
    auto s = make_pbt_scheduler(test_space(), 2, o);
    create(*s, 3);
    EXPECT_EQ(s->on_segment_end(0, 10, 0.9).own.action, Action::Pause);
    EXPECT_EQ(s->on_segment_end(1, 10, 0.1).own.action, Action::Pause);
    EXPECT_TRUE(s->on_trial_failed(2).empty());
    const Assignment a = s->next(true).assignment;
    EXPECT_EQ(a.kind, Assignment::Kind::NewTrial);
  }
  {
    auto s = make_pbt_scheduler(test_space(), 2, o);
    create(*s, 3);
    EXPECT_EQ(s->on_segment_end(0, 10, 0.9).own.action, Action::Pause);
    EXPECT_EQ(s->on_segment_end(1, 10, 0.1).own.action, Action::Pause);
    EXPECT_EQ(s->next(false).assignment.kind, Assignment::Kind::Wait);  // no replacements from now on
    const OtherDecisions td = s->on_trial_failed(2);  // nobody behind any more: rank 0 and 1 now
    ASSERT_EQ(td.size(), 1u);
    EXPECT_EQ(td[0].trial, 0);
    EXPECT_EQ(td[0].decision.action, Action::Rebase);
    EXPECT_EQ(td[0].decision.source, 1);
    EXPECT_EQ(s->next(false).assignment.trial, 0);
    EXPECT_EQ(s->next(false).assignment.trial, 1);
  }
  {
    // Only two of three trials were created; next(false) closes the population.
    auto s = make_pbt_scheduler(test_space(), 2, o);
    create(*s, 2);
    EXPECT_EQ(s->on_segment_end(0, 10, 0.1).own.action, Action::Pause);
    EXPECT_EQ(s->on_segment_end(1, 10, 0.9).own.action, Action::Pause);  // a slot is still open
    const NextWork work = s->next(false);  // closes the population: the barrier is complete
    const Assignment& a = work.assignment;
    const OtherDecisions& td = work.others;
    ASSERT_EQ(td.size(), 1u);
    EXPECT_EQ(td[0].trial, 1);
    ASSERT_EQ(a.kind, Assignment::Kind::Resume);
    EXPECT_EQ(a.trial, 1);
  }
}

TEST(PbtRun, SyncRanksOnlyAtBarriersWithFewerGroups) {
  PbtOptions o = small(6, 60);
  o.synchronous = true;
  auto s = make_pbt_scheduler(test_space(), 4, o);
  Driver d(*s, 2, o);
  d.run();
  EXPECT_EQ(d.completed.size(), 6u);
  EXPECT_GT(d.clones + d.deferred_clones, 0);
  EXPECT_GT(d.deferred_clones, 0);
  EXPECT_TRUE(d.sync_barrier_ok);
}

TEST(PbtRun, SyncReplacementCatchesUp) {
  PbtOptions o = small(4, 60);
  o.synchronous = true;
  auto s = make_pbt_scheduler(test_space(), 4, o);
  Driver d(*s, 4, o);
  d.fail_at = {{2, 30}};
  d.run();
  EXPECT_EQ(d.next_id, 5);  // trial 4 replaced trial 2
  EXPECT_EQ(d.completed.size(), 4u);
  EXPECT_TRUE(d.failed.count(2));
  bool caught_up = false;
  for (const auto& line : d.log) caught_up |= line.find("catches up") != std::string::npos;
  EXPECT_TRUE(caught_up);
}

}  // namespace
}  // namespace mpitune
