// How long a resumed job takes to rebuild the coordinator's state from /events (coord/replay.hpp):
// simulates an ASHA experiment of N trials (a synthetic objective, reports every step, so the
// log grows quickly), then replays its whole event log into a fresh core and prints the time
// per event count. The file's read time is not included (`mpitune run` prints both on resume).
//   resume_replay_bench [TRIALS...]   (default 20 200 2000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mpitune/coord/factories.hpp"
#include "mpitune/coord/replay.hpp"
#include "mpitune/coord/simulator.hpp"
#include "mpitune/objective/synthetic.hpp"

using namespace mpitune;

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {20, 200, 2000};
  std::printf("| trials | events | simulate (s) | replay (s) | replay per event (us) |\n|---:|---:|---:|---:|---:|\n");
  for (int n : sizes) {
    IniFile ini = IniFile::parse(
        "[experiment]\nname = replay\ntrainable = synthetic\nmax_trials = " + std::to_string(n) +
        "\n[space]\nlr = loguniform(1e-4, 1e-1)\nmomentum = uniform(0.5, 0.99)\n"
        "[scheduler]\ntype = asha\nmax_t = 81\n[train]\nlog_interval = 1\n[synthetic]\nobjective = learning_curve\n");
    const ExperimentConfig cfg = parse_config(ini);
    SimulationSetup s;
    s.cfg = &cfg;
    s.num_groups = 8;
    s.make_trainable = [&] { return make_synthetic_trainable(cfg); };
    const auto t0 = std::chrono::steady_clock::now();
    const SimulationResult r = simulate(s);
    const auto t1 = std::chrono::steady_clock::now();
    auto scheduler = make_scheduler(cfg);
    auto searcher = make_searcher(cfg);
    MemoryStore mem;
    ReplayStore store(mem);
    CoordinatorCore core(coordinator_options(cfg, 8, 0, "/tmp/replay-bench-unused"), *scheduler, *searcher, store);
    replay_events(core, r.data.events);
    const auto t2 = std::chrono::steady_clock::now();
    const double sim = std::chrono::duration<double>(t1 - t0).count();
    const double rep = std::chrono::duration<double>(t2 - t1).count();
    std::printf("| %d | %zu | %.2f | %.3f | %.2f |\n", n, r.data.events.size(), sim, rep,
                1e6 * rep / static_cast<double>(r.data.events.size()));
  }
  return 0;
}
