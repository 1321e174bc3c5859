// experiment.max_failures_per_trial: a trial whose segment fails is tried again on its group
// from its resume point, and the scheduler hears only of a failure that is final. Driven in the
// simulator with injected faults (faults.fail_attempts makes a fault transient).
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/core/fault_injection.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {
namespace {

const char* kFifo = R"(
[experiment]
name = retry
seed = 4
max_trials = 6
trainable = synthetic
[space]
lr = loguniform(1e-4, 1e-1)
momentum = uniform(0.5, 0.99)
[scheduler]
type = fifo
max_t = 20
[train]
log_interval = 2
[synthetic]
objective = learning_curve
)";

ExperimentConfig config(const std::string& overrides) {
  IniFile ini = IniFile::parse(kFifo);
  std::istringstream lines(overrides);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) ini.apply_override(line);
  return parse_config(ini);
}

SimulationResult run(const ExperimentConfig& cfg) {
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = 2;
  s.make_trainable = [&] { return with_fault_injection(make_synthetic_trainable(cfg), cfg.faults); };
  return simulate(s);
}

const TrialRecord& trial(const SimulationResult& r, TrialId id) {
  for (const auto& t : r.data.trials)
    if (t.id == id) return t;
  throw std::runtime_error("no trial " + std::to_string(id));
}

int count_actions(const SimulationResult& r, TrialId id, const std::string& action) {
  int n = 0;
  for (const auto& d : r.data.decisions) n += d.trial == id && d.action == action;
  return n;
}

TEST(Retry, ATransientFailureIsTriedAgainAndEndsAsWithoutIt) {
  const SimulationResult clean = run(config(""));
  const SimulationResult retried = run(config("faults.fail_trials=2\nfaults.fail_at_step=7\nfaults.fail_attempts=1\n"
                                              "experiment.max_failures_per_trial=1"));
  EXPECT_EQ(count_actions(retried, 2, "retry"), 1);
  EXPECT_EQ(count_actions(retried, 2, "fail"), 0);
  ASSERT_EQ(retried.data.trials.size(), clean.data.trials.size());
  // Every trial (the retried one too: it restarted from step 0 with its seed) ends as without the fault.
  for (const auto& c : clean.data.trials) {
    const TrialRecord& t = trial(retried, c.id);
    EXPECT_EQ(trial_status_name(t.status), std::string(trial_status_name(c.status))) << "trial " << c.id;
    EXPECT_EQ(t.last_step, c.last_step) << "trial " << c.id;
    EXPECT_EQ(t.last_metric, c.last_metric) << "trial " << c.id;
  }
  // Its steps before the failure are recorded once, not again by the retry.
  std::map<int64_t, int> rows;
  for (const auto& m : retried.data.metrics)
    if (m.trial == 2) ++rows[m.step];
  for (const auto& [step, n] : rows) EXPECT_EQ(n, 1) << "step " << step;
  EXPECT_EQ(rows.size(), [&] {
    size_t n = 0;
    for (const auto& m : clean.data.metrics) n += m.trial == 2;
    return n;
  }());
}

TEST(Retry, APersistentFailureFailsAfterTheAllowedRetries) {
  const SimulationResult r = run(config("faults.fail_trials=1\nfaults.fail_at_step=5\nexperiment.max_failures_per_trial=2"));
  EXPECT_EQ(count_actions(r, 1, "retry"), 2);
  EXPECT_EQ(count_actions(r, 1, "fail"), 1);
  EXPECT_EQ(trial(r, 1).status, TrialStatus::Failed);
  for (const auto& t : r.data.trials)
    if (t.id != 1) {
      EXPECT_EQ(t.status, TrialStatus::Completed) << "trial " << t.id;
    }
}

TEST(Retry, WithoutRetriesAFailureIsFinalAtOnce) {
  const SimulationResult r = run(config("faults.fail_trials=1\nfaults.fail_at_step=5"));
  EXPECT_EQ(count_actions(r, 1, "retry"), 0);
  EXPECT_EQ(count_actions(r, 1, "fail"), 1);
  EXPECT_EQ(trial(r, 1).status, TrialStatus::Failed);
}

}  // namespace
}  // namespace mpitune
