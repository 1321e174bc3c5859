// PBT's host cache (scheduler.pbt_host_cache_mb): paused trials' states stay in the memory of the
// group that paused them, so exploits of paused sources (and resumes) copy them rank to rank
// instead of reading checkpoint files. Driven in the simulator, whose groups keep the cache as
// the worker does.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {
namespace {

const char* kPbt = R"(
[experiment]
name = pbt-cache
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

SimulationResult run(const std::string& cache_mb) {
  IniFile ini = IniFile::parse(kPbt);
  ini.apply_override("scheduler.pbt_host_cache_mb=" + cache_mb);
  const ExperimentConfig cfg = parse_config(ini);
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = 3;  // 8 trials take turns on 3 groups: they pause and resume
  s.make_trainable = [&] { return make_synthetic_trainable(cfg); };
  return simulate(s);
}

std::map<std::string, int> transfers_by_route(const SimulationResult& r) {
  std::map<std::string, int> n;
  for (const auto& t : r.data.transfers) ++n[t.via];
  return n;
}

void expect_all_completed(const SimulationResult& r, const std::string& what) {
  ASSERT_EQ(r.data.trials.size(), 8u) << what;
  for (const auto& t : r.data.trials)
    EXPECT_EQ(t.status, TrialStatus::Completed) << what << ": trial " << t.id << " " << t.reason;
}

TEST(HostCache, PausedStatesComeFromMemoryWhenTheHolderIsFreeAndFromFilesOtherwise) {
  const SimulationResult cached = run("1024");
  const SimulationResult uncached = run("0");
  expect_all_completed(cached, "cache on");
  expect_all_completed(uncached, "cache off");
  const auto on = transfers_by_route(cached), off = transfers_by_route(uncached);
  // Without the cache a paused source is read from its files. With it, from the memory of its
  // group when that group is free (these states are small: a training holder is not waited for,
  // the page cache serves their files in milliseconds).
  auto count = [](const std::map<std::string, int>& m, const char* k) { return m.count(k) ? m.at(k) : 0; };
  EXPECT_GT(count(off, "files"), 0);
  EXPECT_EQ(count(off, "memory"), 0);
  EXPECT_GT(count(on, "memory"), 0);
  EXPECT_LT(count(on, "files"), count(off, "files"));
  EXPECT_EQ(count(on, "memory") + count(on, "files") + count(on, "ranks"),
            count(off, "files") + count(off, "ranks"));
  // A resume from the cache is not an exploit: no transfer row has the same source and target.
  for (const auto& t : cached.data.transfers) EXPECT_NE(t.source_trial, t.target_trial);
  // The same decisions either way (the route changes how a state moves, not what it is).
  ASSERT_EQ(cached.data.decisions.size(), uncached.data.decisions.size());
  for (size_t i = 0; i < cached.data.decisions.size(); ++i) {
    EXPECT_EQ(cached.data.decisions[i].trial, uncached.data.decisions[i].trial) << "decision " << i;
    EXPECT_EQ(cached.data.decisions[i].action, uncached.data.decisions[i].action) << "decision " << i;
  }
  for (size_t i = 0; i < cached.data.trials.size(); ++i)
    EXPECT_EQ(cached.data.trials[i].last_metric, uncached.data.trials[i].last_metric) << "trial " << i;
}

TEST(HostCache, StatesBeyondTheBudgetAreReadFromTheirFiles) {
  // A budget below one synthetic state (a few dozen bytes): nothing fits, everything is read from files.
  const SimulationResult r = run("0.00001");
  expect_all_completed(r, "tiny budget");
  const auto routes = transfers_by_route(r);
  EXPECT_EQ(routes.count("memory"), 0u);
  EXPECT_GT(routes.count("files") ? routes.at("files") : 0, 0);
}

}  // namespace
}  // namespace mpitune
