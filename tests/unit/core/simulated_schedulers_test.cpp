// Hyperband (pause/resume through checkpoints), BOHB and PBT (clones) driven end to end by the
// coordinator logic in the simulator.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "mpitune/report/report.hpp"
#include "mpitune/report/schedule_report.hpp"
#include "mpitune/sched/hyperband.hpp"

namespace mpitune {
namespace {

ExperimentConfig config(const std::string& body, const std::string& overrides = "") {
  IniFile ini = IniFile::parse(body);
  std::istringstream lines(overrides);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty()) ini.apply_override(line);
  return parse_config(ini);
}

SimulationResult run(const ExperimentConfig& cfg, int groups) {
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = groups;
  s.make_trainable = [&] { return make_synthetic_trainable(cfg); };
  return simulate(s);
}

const char* kHartmann = R"(
[experiment]
name = hb
seed = 3
max_trials = 1000
trainable = synthetic
[space]
x1 = uniform(0, 1)
x2 = uniform(0, 1)
x3 = uniform(0, 1)
x4 = uniform(0, 1)
x5 = uniform(0, 1)
x6 = uniform(0, 1)
[scheduler]
type = hyperband
min_t = 1
max_t = 27
reduction_factor = 3
[synthetic]
objective = hartmann6
)";

TEST(SimulatedHyperband, EveryBracketRunsThePapersNumbersThroughPauseAndResume) {
  const auto cfg = config(kHartmann);
  const auto r = run(cfg, 3);
  const auto brackets = hyperband_brackets(1, 27, 3);
  // Results per (bracket, budget): the decisions at segment ends carry bracket and budget.
  std::map<std::pair<int, int64_t>, int> judged;
  std::map<TrialId, int> bracket_of;
  for (const auto& d : r.data.decisions)
    if (d.action == "start") bracket_of[d.trial] = d.bracket;
  std::set<std::pair<TrialId, int64_t>> seen;
  for (const auto& m : r.data.metrics)
    if (std::isfinite(m.eval_loss) && seen.insert({m.trial, m.step}).second) ++judged[{bracket_of[m.trial], m.step}];
  size_t expected_trials = 0;
  for (size_t b = 0; b < brackets.size(); ++b) {
    expected_trials += brackets[b].rungs.front().n;
    for (const auto& rung : brackets[b].rungs)
      EXPECT_EQ(judged[std::make_pair(static_cast<int>(b), rung.budget)], rung.n)
          << "bracket " << b << " budget " << rung.budget;
  }
  EXPECT_EQ(r.data.trials.size(), expected_trials);
  int pauses = 0, resumes = 0;
  for (const auto& d : r.data.decisions) {
    pauses += d.action == "pause";
    resumes += d.action == "resume";
  }
  EXPECT_GT(pauses, 0);
  EXPECT_GT(resumes, 0);
  EXPECT_LE(resumes, pauses);  // every resume was a pause first
  for (const auto& t : r.data.trials)
    EXPECT_TRUE(t.status == TrialStatus::Completed || t.status == TrialStatus::Stopped) << trial_status_name(t.status);
  EXPECT_EQ(r.data.summary.status, "finished");
}

TEST(SimulatedHyperband, ResumedTrialsContinueFromTheirCheckpointedStep) {
  const auto r = run(config(kHartmann), 2);
  // Each trial's metric steps strictly increase: a resume never restarts from 0.
  std::map<TrialId, int64_t> last;
  for (const auto& m : r.data.metrics) {
    auto it = last.find(m.trial);
    if (it != last.end()) {
      EXPECT_GT(m.step, it->second) << "trial " << m.trial;
    }
    last[m.trial] = m.step;
  }
}

TEST(SimulatedBohb, DrivesHyperbandAndReachesALowValue) {
  const auto cfg = config(kHartmann, "search.type=bohb\nscheduler.iterations=2");
  const auto r = run(cfg, 4);
  EXPECT_EQ(r.data.summary.status, "finished");
  EXPECT_LT(r.data.summary.best_metric, -2.0);  // Hartmann-6's minimum is -3.32
}

const char* kPbt = R"(
[experiment]
name = pbt
seed = 5
trainable = synthetic
[space]
lr = loguniform(1e-4, 1e-1)
wd = uniform(0, 1)
[scheduler]
type = pbt
population = 8
perturbation_interval = 5
max_t = 40
[synthetic]
objective = learning_curve
noise = 0.02
)";

TEST(SimulatedPbt, ClonesCopyStateAndEveryTrialCompletes) {
  for (int groups : {8, 3}) {  // 3 groups: the population takes turns (pause/resume)
    const auto r = run(config(kPbt), groups);
    ASSERT_EQ(r.data.trials.size(), 8u) << groups;
    for (const auto& t : r.data.trials) {
      EXPECT_EQ(t.status, TrialStatus::Completed) << groups;
      EXPECT_EQ(t.last_step, 40);
    }
    EXPECT_FALSE(r.data.transfers.empty()) << groups;
    for (const auto& x : r.data.transfers) {
      EXPECT_NE(x.source_trial, x.target_trial);
      EXPECT_GT(x.step, 0);
      EXPECT_FALSE(x.new_hparams.empty());
    }
    int clones = 0;
    for (const auto& d : r.data.decisions) clones += d.action == "clone";
    EXPECT_EQ(clones, static_cast<int>(r.data.transfers.size())) << groups;
  }
}

TEST(SimulatedPbt, SynchronousModeAlsoCompletes) {
  const auto r = run(config(kPbt, "scheduler.synchronous=true"), 3);
  ASSERT_EQ(r.data.trials.size(), 8u);
  for (const auto& t : r.data.trials) EXPECT_EQ(t.status, TrialStatus::Completed);
  EXPECT_FALSE(r.data.transfers.empty());
}

TEST(SimulatedPbt, SameSeedSameTransfers) {
  const auto a = run(config(kPbt), 3);
  const auto b = run(config(kPbt), 3);
  ASSERT_EQ(a.data.transfers.size(), b.data.transfers.size());
  for (size_t i = 0; i < a.data.transfers.size(); ++i) {
    EXPECT_EQ(a.data.transfers[i].source_trial, b.data.transfers[i].source_trial);
    EXPECT_EQ(a.data.transfers[i].target_trial, b.data.transfers[i].target_trial);
    EXPECT_EQ(a.data.transfers[i].new_hparams, b.data.transfers[i].new_hparams);
  }
}

TEST(ScheduleReport, BudgetCountsOfHyperbandEqualThePapersTable) {
  const auto r = run(config(kHartmann), 3);
  const auto brackets = hyperband_brackets(1, 27, 3);
  std::map<std::pair<int, int64_t>, int64_t> counted;
  for (const auto& c : budget_counts(r.data)) counted[{c.bracket, c.budget}] = c.trials;
  size_t rows = 0;
  for (size_t b = 0; b < brackets.size(); ++b)
    for (const auto& rung : brackets[b].rungs) {
      EXPECT_EQ(counted[std::make_pair(static_cast<int>(b), rung.budget)], rung.n);
      ++rows;
    }
  EXPECT_EQ(counted.size(), rows);
  const std::string text = format_report({r.data}, nullptr, ReportFormat::Markdown);
  EXPECT_NE(text.find("| bracket | budget (steps) | trials |"), std::string::npos) << text;
}

TEST(ScheduleReport, PbtScheduleFollowsTheLineageFromStepZeroToTheEnd) {
  const auto r = run(config(kPbt), 3);
  int with_clones = 0;
  for (const auto& t : r.data.trials) {
    const auto spans = pbt_schedule(r.data, t.id);
    ASSERT_FALSE(spans.empty());
    EXPECT_EQ(spans.front().from_step, 0);
    EXPECT_EQ(spans.back().to_step, t.last_step);
    EXPECT_EQ(spans.back().weights_of, t.id);
    for (size_t i = 1; i < spans.size(); ++i) {
      EXPECT_EQ(spans[i].from_step, spans[i - 1].to_step);  // contiguous
      EXPECT_LE(spans[i].from_step, spans[i].to_step);
    }
    for (const auto& sp : spans) EXPECT_FALSE(sp.hparams.empty());
    with_clones += spans.size() > 1;
  }
  EXPECT_GT(with_clones, 0);
  const std::string text = format_report({r.data}, nullptr, ReportFormat::Markdown);
  EXPECT_NE(text.find("hyperparameter schedule of trial"), std::string::npos) << text;
}

}  // namespace
}  // namespace mpitune
