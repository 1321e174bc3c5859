// Resume by replay (coord/replay.hpp): the event log of a simulated experiment, handed to a fresh
// coordinator core, reproduces its state; and an experiment that crashes (as a kill -9) at any
// point and is resumed from its log and checkpoints ends as the uninterrupted one does.
//
// Property tests over schedulers (FIFO, ASHA, Hyperband, BOHB, PBT), seeds and cut points.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "mpitune/coord/factories.hpp"
#include "mpitune/coord/replay.hpp"
#include "mpitune/coord/simulator.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

const char* kBase = R"(
[experiment]
name = resume
max_trials = 14
trainable = synthetic
[space]
x1 = uniform(0, 1)
x2 = uniform(0, 1)
x3 = uniform(0, 1)
x4 = uniform(0, 1)
x5 = uniform(0, 1)
x6 = uniform(0, 1)
[scheduler]
max_t = 27
grace_period = 1
min_t = 1
reduction_factor = 3
[train]
log_interval = 2
eval_interval = 4
[synthetic]
objective = hartmann6
)";

const char* kPbt = R"(
[experiment]
name = pbt
trainable = synthetic
[space]
lr = loguniform(1e-4, 1e-1)
wd = uniform(0, 1)
[scheduler]
type = pbt
population = 6
perturbation_interval = 5
max_t = 30
[synthetic]
objective = learning_curve
noise = 0.02
)";

struct Case {
  const char* name;
  const char* body;
  const char* overrides;  // newline-separated section.key=value
};

const Case kCases[] = {
    {"fifo", kBase, "scheduler.type=fifo\nexperiment.max_trials=6"},
    {"asha", kBase, "scheduler.type=asha"},
    {"hyperband", kBase, "scheduler.type=hyperband\nexperiment.max_trials=1000"},
    {"bohb", kBase, "scheduler.type=hyperband\nsearch.type=bohb\nexperiment.max_trials=1000\nscheduler.iterations=2"},
    {"pbt", kPbt, ""},
};

ExperimentConfig config(const Case& c, uint64_t seed) {
  IniFile ini = IniFile::parse(c.body);
  std::istringstream lines(c.overrides);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) ini.apply_override(line);
  ini.apply_override("experiment.seed=" + std::to_string(seed));
  return parse_config(ini);
}

SimulationResult simulate_with(const ExperimentConfig& cfg, const std::string& root, int64_t crash_after = -1,
                               const ExperimentData* resume = nullptr) {
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = 3;
  s.make_trainable = [&] { return make_synthetic_trainable(cfg); };
  // Steps of uneven cost, so groups finish out of step with each other.
  s.step_seconds = [](TrialId t, int64_t step) { return 1.0 + 0.37 * static_cast<double>((t * 7 + step) % 5); };
  s.checkpoint_root = root;
  s.crash_after_events = crash_after;
  s.resume = resume;
  return simulate(s);
}

bool same_number(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void expect_same_decisions(const std::vector<DecisionRecord>& got, const std::vector<DecisionRecord>& want,
                           size_t want_from, const std::string& what) {
  ASSERT_EQ(got.size(), want.size() - want_from) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const DecisionRecord& a = got[i];
    const DecisionRecord& b = want[want_from + i];
    EXPECT_TRUE(a.trial == b.trial && a.step == b.step && a.action == b.action && a.reason == b.reason &&
                a.time == b.time && a.bracket == b.bracket && a.rung == b.rung)
        << what << ": decision " << i << ": trial " << a.trial << " " << a.action << " at " << a.step << " ("
        << a.reason << ") vs trial " << b.trial << " " << b.action << " at " << b.step << " (" << b.reason << ")";
  }
}

// The end state of every trial as a user reads it.
void expect_same_trials(const std::vector<TrialRecord>& got, const std::vector<TrialRecord>& want,
                        const std::string& what, bool check_steps = true) {
  ASSERT_EQ(got.size(), want.size()) << what;
  std::map<TrialId, const TrialRecord*> by_id;
  for (const auto& t : want) by_id[t.id] = &t;
  for (const auto& a : got) {
    ASSERT_TRUE(by_id.count(a.id)) << what << ": trial " << a.id;
    const TrialRecord& b = *by_id[a.id];
    EXPECT_EQ(trial_status_name(a.status), std::string(trial_status_name(b.status))) << what << ": trial " << a.id;
    if (!check_steps) continue;  // PBT: explored values depend on which clone was redone how
    EXPECT_EQ(a.hparams.to_string(), b.hparams.to_string()) << what << ": trial " << a.id;
    EXPECT_EQ(a.last_step, b.last_step) << what << ": trial " << a.id;
    EXPECT_TRUE(same_number(a.last_metric, b.last_metric)) << what << ": trial " << a.id << " " << a.last_metric
                                                           << " vs " << b.last_metric;
  }
}

class ResumeReplay : public ::testing::TestWithParam<Case> {};

// Replaying a prefix silently, then the rest live, gives exactly the rest's decisions and the
// same end: the replayed core was in the state the original had at the cut.
TEST_P(ResumeReplay, ReplayedPrefixGivesTheSameNextDecisionsAtEveryCut) {
  for (uint64_t seed : {1, 2, 3}) {
    const ExperimentConfig cfg = config(GetParam(), seed);
    testing::TempDir root;
    const SimulationResult full = simulate_with(cfg, root.path());
    const auto& events = full.data.events;
    ASSERT_GT(events.size(), 20u);
    ASSERT_EQ(events.front().kind, "job");
    for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i].seq, static_cast<int64_t>(i));

    // All events live: the same decisions as the run itself.
    const size_t total = full.data.decisions.size();
    for (size_t cut : {size_t(0), size_t(1), events.size() / 7, events.size() / 3, events.size() / 2,
                       2 * events.size() / 3, events.size() - 1, events.size()}) {
      auto scheduler = make_scheduler(cfg);
      auto searcher = make_searcher(cfg);
      MemoryStore mem;
      ReplayStore store(mem);
      CoordinatorCore core(coordinator_options(cfg, 3, 0, root.path()), *scheduler, *searcher, store);
      replay_events(core, {events.begin(), events.begin() + static_cast<long>(cut)});
      store.set_live(true);
      replay_events(core, {events.begin() + static_cast<long>(cut), events.end()});
      const std::string what = std::string(GetParam().name) + " seed " + std::to_string(seed) + " cut " +
                               std::to_string(cut) + "/" + std::to_string(events.size());
      expect_same_decisions(mem.data().decisions, full.data.decisions, total - mem.data().decisions.size(), what);
      // The metrics of the live part, too.
      const auto& m = mem.data().metrics;
      ASSERT_LE(m.size(), full.data.metrics.size()) << what;
      const size_t from = full.data.metrics.size() - m.size();
      for (size_t i = 0; i < m.size(); ++i)
        ASSERT_TRUE(m[i].trial == full.data.metrics[from + i].trial && m[i].step == full.data.metrics[from + i].step)
            << what << ": metric row " << i;
      if (cut == 0) {
        EXPECT_EQ(mem.data().decisions.size(), total) << what;
      }
    }
  }
}

// A kill -9 at any point, then a resume from the log and the checkpoint folder: the same trials
// end the same way with the same results (PBT: a clone in flight is redone from a checkpoint, so
// only the set of trials and their statuses are compared).
TEST_P(ResumeReplay, CrashAnywhereThenResumeEndsLikeTheUninterruptedRun) {
  const bool exact = std::string(GetParam().name) != "pbt";
  for (uint64_t seed : {1, 2}) {
    const ExperimentConfig cfg = config(GetParam(), seed);
    testing::TempDir full_root;
    const SimulationResult full = simulate_with(cfg, full_root.path());
    const int64_t n = static_cast<int64_t>(full.data.events.size());
    for (int64_t cut : {int64_t(2), n / 5, n / 2, 4 * n / 5, n - 2}) {
      testing::TempDir root;
      const SimulationResult crashed = simulate_with(cfg, root.path(), cut);
      ASSERT_TRUE(crashed.crashed);
      const SimulationResult resumed = simulate_with(cfg, root.path(), -1, &crashed.data);
      ASSERT_FALSE(resumed.crashed);
      const std::string what = std::string(GetParam().name) + " seed " + std::to_string(seed) + " crash after " +
                               std::to_string(cut) + "/" + std::to_string(n) + " events";
      expect_same_trials(resumed.data.trials, full.data.trials, what, exact);
      if (exact) {
        EXPECT_EQ(resumed.data.summary.best_trial, full.data.summary.best_trial) << what;
        EXPECT_TRUE(same_number(resumed.data.summary.best_metric, full.data.summary.best_metric)) << what;
      }
      // Every step of every trial is in /metrics once: the resumed trials' replayed steps were
      // dropped, not recorded (or judged by the scheduler) twice. (PBT: a clone target may report
      // the step it copied again, interrupted or not.)
      std::map<std::pair<TrialId, int64_t>, int> rows;
      for (const auto& m : resumed.data.metrics) ++rows[{m.trial, m.step}];
      if (exact) {
        for (const auto& [key, count] : rows)
          EXPECT_EQ(count, 1) << what << ": trial " << key.first << " step " << key.second;
        std::map<std::pair<TrialId, int64_t>, int> want;
        for (const auto& m : full.data.metrics) ++want[{m.trial, m.step}];
        EXPECT_EQ(rows, want) << what;
      }
      for (const auto& t : resumed.data.trials)
        EXPECT_TRUE(t.status != TrialStatus::Running && t.status != TrialStatus::Pending)
            << what << ": trial " << t.id << " still " << trial_status_name(t.status);
      // The log goes on where it stopped: one sequence over both jobs.
      const auto& ev = resumed.data.events;
      for (size_t i = 0; i < ev.size(); ++i) ASSERT_EQ(ev[i].seq, static_cast<int64_t>(i)) << what;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Schedulers, ResumeReplay, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
}  // namespace mpitune

namespace mpitune {
namespace {

// experiment.checkpoint_interval_s: segments carry where to write periodic checkpoints; the
// newest one a group reports is where the next job resumes the trial (the older one goes).
TEST(PeriodicCheckpoints, TheNewestIsWhereAResumedJobStartsTheTrial) {
  IniFile ini = IniFile::parse(kBase);
  ini.apply_override("scheduler.type=fifo");
  ini.apply_override("experiment.max_trials=1");
  ini.apply_override("experiment.checkpoint_interval_s=60");
  const ExperimentConfig cfg = parse_config(ini);
  auto scheduler = make_scheduler(cfg);
  auto searcher = make_searcher(cfg);
  MemoryStore mem;
  CoordinatorCore core(coordinator_options(cfg, 1, 0, "/ckpt"), *scheduler, *searcher, mem);
  core.begin_job(0, 1);
  const auto first = core.handle(0, ReadyMsg{0}, 1);
  ASSERT_EQ(first.size(), 1u);
  const auto& seg = std::get<SegmentMsg>(first[0].message);
  EXPECT_EQ(seg.checkpoint_every_s, 60);
  EXPECT_EQ(seg.checkpoint_prefix, "/ckpt/trial-0-step");
  core.handle(0, PeriodicCheckpointMsg{0, 0, 5, "/ckpt/trial-0-step5", 0.1}, 2);
  core.handle(0, PeriodicCheckpointMsg{0, 0, 9, "/ckpt/trial-0-step9", 0.1}, 3);
  EXPECT_EQ(core.take_deletions(), std::vector<std::string>{"/ckpt/trial-0-step5"});

  // The job dies; the next one gives the trial to its group from step 9.
  core.begin_job(4, 1);
  const auto resumed = core.handle(0, ReadyMsg{0}, 5);
  ASSERT_EQ(resumed.size(), 1u);
  const auto& again = std::get<SegmentMsg>(resumed[0].message);
  EXPECT_EQ(again.trial, 0);
  EXPECT_EQ(again.init, SegmentInit::Resume);
  EXPECT_EQ(again.start, 9);
  EXPECT_EQ(again.stop, seg.stop);
  EXPECT_EQ(again.checkpoint, "/ckpt/trial-0-step9");
}

}  // namespace
}  // namespace mpitune
