// `mpitune simulate` (runtime/simulate_command.hpp): a config's experiment on simulated groups,
// written to a result file through the HDF5 store, with the utilisation figures printed.
#include "mpitune/runtime/simulate_command.hpp"

#include <boost/program_options.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "mpitune/coord/cost_model.hpp"
#include "mpitune/coord/factories.hpp"
#include "mpitune/coord/simulator.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/runtime/config_options.hpp"
#include "mpitune/runtime/run.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

// The config the simulated groups train: a synthetic objective that does not sleep. A gpt
// config becomes the learning_curve objective over its own [space].
ExperimentConfig simulated_config(IniFile ini, const ExperimentConfig& cfg) {
  if (cfg.experiment.trainable == "gpt") {
    ini.apply_override("experiment.trainable=synthetic");
    ini.apply_override("synthetic.objective=learning_curve");
  }
  ini.apply_override("synthetic.step_cost_ms=0");
  ExperimentConfig sim = parse_config(ini);
  validate_synthetic(sim);
  return sim;
}

double wall_clock() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

int simulate_command(const std::vector<std::string>& args, const std::string& command_line) {
  po::options_description desc(
      "mpitune simulate --config FILE [--groups N] [--set section.key=value ...] [--output FILE]\n"
      "  The experiment of a config on N simulated groups, in one process on a virtual clock, run\n"
      "  by the same coordinator, schedulers and searchers as `mpitune run`; step costs, jitter,\n"
      "  stragglers, failures and checkpoint/transfer seconds from the config's [simulate] section.\n"
      "  Writes the same result file as a run (mpitune report / --html read it) and prints the\n"
      "  utilisation, the ideal time, the overhead and the decisions per second.\n"
      "  A gpt config is simulated as the learning_curve objective over its [space].\n\noptions");
  desc.add_options()("help,h", "this help")
      ("config,c", po::value<std::string>(), "experiment INI file (without it: the embedded default)")
      ("set,s", po::value<std::vector<std::string>>()->composing(), "override a key: section.key=value (repeatable)")
      ("groups,g", po::value<int>(), "simulated groups (simulate.groups; default 4)")
      ("output,o", po::value<std::string>(), "result file (experiment.output)")
      ("quiet,q", "print the figures only");
  const po::variables_map vm = parse_command_line(args, desc, nullptr, "simulate");
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  IniFile ini = config_from_options(vm);
  if (vm.count("groups")) ini.apply_override("simulate.groups=" + std::to_string(vm["groups"].as<int>()));
  if (vm.count("output")) ini.apply_override("experiment.output=" + vm["output"].as<std::string>());
  const ExperimentConfig cfg = parse_config(ini);
  const ExperimentConfig sim = simulated_config(ini, cfg);
  make_scheduler(sim);
  make_searcher(sim);
  const CostModel cost(cfg.simulate, cfg.space, cfg.experiment.seed,
                       cfg.experiment.trainable == "synthetic" ? cfg.synthetic.step_cost_ms : 0);
  const int groups = cfg.simulate.groups;
  const std::string path = cfg.output_path();
  check_result_columns(cfg.space);
  check_output_path(path, cfg.experiment.overwrite);
  OutputLock lock;
  lock.acquire(path);
  Hdf5StoreOptions store_options;
  store_options.flush_decisions = false;  // a simulation that crashes is run again (hdf5_store.hpp)
  auto store = create_hdf5_store(path, cfg.experiment.overwrite, store_options);
  const bool quiet = vm.count("quiet") > 0;
  if (!quiet)
    std::printf("mpitune simulate: experiment '%s' (%s%s) on %d simulated groups of %d; results in %s\n",
                cfg.experiment.name.c_str(), method_name(cfg).c_str(),
                cfg.experiment.trainable == "gpt" ? ", gpt as learning_curve" : "", groups,
                cfg.experiment.group_size, path.c_str());
  std::fflush(stdout);

  SimulationSetup setup;
  setup.cfg = &sim;
  setup.num_groups = groups;
  setup.make_trainable = [&] { return make_synthetic_trainable(sim); };
  setup.cost_model = &cost;
  setup.store = store.get();
  setup.start_time = std::floor(wall_clock());  // whole seconds: sums of step costs stay as exact as from 0
  setup.describe = [&](ExperimentInfo& info) {
    info.mpitune_version = MPITUNE_VERSION;
    info.command_line = command_line;
    info.config_text = ini.to_text();
  };
  const auto t0 = std::chrono::steady_clock::now();
  const SimulationResult r = simulate(setup);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  store->close();
  lock.release();

  const SimulationFigures f = simulation_figures(r, groups);
  std::printf("simulated:   %.2f s virtual for %lld steps on %d groups (%.2f s wall)\n", r.elapsed,
              static_cast<long long>(r.steps), groups, wall);
  std::printf("utilisation: %.4f (busy group-seconds %.1f / (groups x elapsed))\n", f.utilisation, r.busy_seconds);
  std::printf("ideal:       %.2f s (busy group-seconds / groups); overhead %.2f%%\n", f.ideal_s, 100 * f.overhead);
  std::printf("io:          %.1f group-seconds of checkpoints and transfers; %lld injected failures\n", r.io_seconds,
              static_cast<long long>(r.injected_failures));
  std::printf("decisions:   %lld, %.0f per second (wall); %lld events, %.0f per second\n",
              static_cast<long long>(r.decisions), wall > 0 ? r.decisions / wall : 0.0,
              static_cast<long long>(r.events), wall > 0 ? r.events / wall : 0.0);
  return 0;
}

}  // namespace mpitune
