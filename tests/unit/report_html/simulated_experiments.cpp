// The simulated experiments of the HTML report's tests (see simulated_experiments.hpp).
#include "simulated_experiments.hpp"

#include <sstream>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/fault_injection.hpp"
#include "mpitune/core/ini.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune::testing {
namespace {

const char* kAsha = R"(
[experiment]
name = asha <demo> & "friends"
seed = 7
max_trials = 40
trainable = synthetic
[space]
lr = loguniform(1e-4, 1e-1)
wd = uniform(0, 1)
[scheduler]
type = asha
max_t = 27
grace_period = 1
[synthetic]
objective = learning_curve
noise = 0.05
[train]
log_interval = 1
[faults]
fail_trials = 3,8
fail_at_step = 1
)";

const char* kHartmann = R"(
[experiment]
name = hyperband
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

ExperimentData run(const std::string& text, const std::string& overrides, int groups) {
  IniFile ini = IniFile::parse(text);
  std::istringstream lines(overrides);
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty()) ini.apply_override(line);
  const ExperimentConfig cfg = parse_config(ini);
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = groups;
  s.make_trainable = [&] { return with_fault_injection(make_synthetic_trainable(cfg), cfg.faults); };
  return simulate(s).data;
}

}  // namespace

ExperimentData simulated_experiment(const std::string& kind) {
  if (kind == "asha") return run(kAsha, "", 4);
  if (kind == "hyperband") return run(kHartmann, "", 3);
  if (kind == "bohb") return run(kHartmann, "experiment.name=bohb\nsearch.type=bohb\nscheduler.iterations=2", 4);
  if (kind == "pbt") return run(kPbt, "", 3);
  throw InfraError("simulated_experiment: unknown kind " + kind);
}

}  // namespace mpitune::testing
