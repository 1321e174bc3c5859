// Scheduler comparison on multi-fidelity Hartmann-6 in the simulator (no MPI, seconds to run):
// BOHB (KDE + Hyperband), random + Hyperband, random + ASHA (and BOHB + ASHA), over several
// seeds at an equal budget of virtual time. A step to fidelity z costs the increase of
// mf-prior-bench's cost 0.05 + 0.95 (z/100)^2, so training a configuration to z costs cost(z).
// Prints the median (over seeds) best value found by a quarter, half, three quarters and all
// of the budget. Hartmann-6's minimum is -3.32237.
//
//   scheduler_comparison [--seeds N] [--groups K] [--budget S]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/objective/synthetic.hpp"

using namespace mpitune;

namespace {

const char* kBase = R"(
[experiment]
name = mf-hartmann
max_trials = 100000
trainable = synthetic
[space]
x1 = uniform(0, 1)
x2 = uniform(0, 1)
x3 = uniform(0, 1)
x4 = uniform(0, 1)
x5 = uniform(0, 1)
x6 = uniform(0, 1)
[scheduler]
max_t = 100
min_t = 1
grace_period = 1
reduction_factor = 3
iterations = 1000
[synthetic]
objective = hartmann6
bias = 0.5
noise = 0.1
)";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Best (lowest) eval value reported by virtual time t.
double best_by(const ExperimentData& d, double t) {
  double best = INFINITY;
  for (const auto& m : d.metrics)
    if (m.time <= t && std::isfinite(m.eval_loss)) best = std::min(best, m.eval_loss);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int seeds = 10, groups = 4;
  double budget = 60;  // virtual seconds; a full-fidelity evaluation costs 1
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seeds") seeds = std::atoi(argv[i + 1]);
    else if (a == "--groups") groups = std::atoi(argv[i + 1]);
    else if (a == "--budget") budget = std::atof(argv[i + 1]);
  }
  struct Method {
    const char* name;
    const char* scheduler;
    const char* searcher;
  };
  const std::vector<Method> methods = {{"BOHB (KDE + Hyperband)", "hyperband", "bohb"},
                                       {"random + Hyperband", "hyperband", "random"},
                                       {"random + ASHA", "asha", "random"},
                                       {"BOHB KDE + ASHA", "asha", "bohb"}};
  const std::vector<double> fractions = {0.25, 0.5, 0.75, 1.0};
  std::printf("multi-fidelity Hartmann-6 (bias 0.5, noise 0.1), %d groups, budget %.0f (full evaluations' cost), "
              "%d seeds\n\n",
              groups, budget, seeds);
  std::printf("| method | best @25%% | @50%% | @75%% | @100%% | trials (median) |\n|---|---:|---:|---:|---:|---:|\n");
  for (const Method& m : methods) {
    std::vector<std::vector<double>> at(fractions.size());
    std::vector<double> trials;
    for (int s = 0; s < seeds; ++s) {
      IniFile ini = IniFile::parse(kBase);
      ini.set("experiment", "seed", std::to_string(s));
      ini.set("experiment", "time_budget_s", std::to_string(budget));
      ini.set("scheduler", "type", m.scheduler);
      ini.set("search", "type", m.searcher);
      const ExperimentConfig cfg = parse_config(ini);
      SimulationSetup setup;
      setup.cfg = &cfg;
      setup.num_groups = groups;
      setup.make_trainable = [&] { return make_synthetic_trainable(cfg); };
      setup.step_seconds = [](TrialId, int64_t step) {
        const int z = static_cast<int>(std::min<int64_t>(step, 100));
        return mf_hartmann6_cost(z) - (z > 1 ? mf_hartmann6_cost(z - 1) : 0.0);
      };
      const SimulationResult r = simulate(setup);
      for (size_t f = 0; f < fractions.size(); ++f) at[f].push_back(best_by(r.data, fractions[f] * budget));
      trials.push_back(static_cast<double>(r.data.trials.size()));
    }
    std::printf("| %s |", m.name);
    for (const auto& v : at) std::printf(" %.4f |", median(v));
    std::printf(" %.0f |\n", median(trials));
  }
  std::printf("\nHartmann-6 minimum: -3.32237 (lower is better)\n");
  return 0;
}
