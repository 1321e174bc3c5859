// One point of the scaling study (scaling_sweep.hpp): its config, and the simulator run in a
// forked child that sends its figures back as one text line through a pipe.
#include "scaling_sweep.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <unordered_set>

#include "mpitune/coord/cost_model.hpp"
#include "mpitune/coord/simulator.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "mpitune/store/result_store.hpp"
#include "mpitune/sched/hyperband.hpp"

namespace mpitune {
namespace scaling {
namespace {

// What every point shares: the synthetic learning curve of configs/synthetic_asha.ini, which
// costs nothing to compute, so the simulator's own work is the coordinator's.
const char* kBase = R"([experiment]
name = scaling
trainable = synthetic
[space]
lr = loguniform(1e-4, 1e-1)
momentum = uniform(0.5, 0.99)
layers = int(1, 8)
[synthetic]
objective = learning_curve
noise = 0.05
)";

std::string scheduler_type(const std::string& scheduler) {
  return scheduler == "fifo-fixed" ? "fifo" : scheduler == "bohb" ? "hyperband" : scheduler;
}

// Each scheduler's budget in steps and its settings. FIFO: 9 steps a trial. ASHA, Hyperband
// and BOHB: rungs 1, 3, 9, 27, 81 (eta 3), as Ray's and the paper's examples. PBT: the
// population trains 100 steps, exploiting every 10.
std::string scheduler_section(const PointSpec& s) {
  const std::string type = scheduler_type(s.scheduler);
  const int64_t max_t = effective_max_t(s);
  std::ostringstream o;
  o << "[scheduler]\ntype = " << type << "\nmax_t = " << max_t << "\n";
  if (type == "asha") o << "grace_period = 1\nreduction_factor = 3\n";
  if (type == "hyperband") {
    // Enough sweeps over the brackets for max_trials, and no more: the scheduler keeps every
    // bracket of every iteration and scans them when it looks for work.
    int64_t per_sweep = 0;
    for (const auto& b : hyperband_brackets(1, max_t, 3)) per_sweep += b.rungs.front().n;
    o << "min_t = 1\nreduction_factor = 3\niterations = "
      << (s.trials + per_sweep - 1) / per_sweep << "\n";
  }
  if (type == "pbt") o << "population = " << s.trials << "\nperturbation_interval = 10\n";
  if (s.scheduler == "bohb") o << "[search]\ntype = bohb\n";
  return o.str();
}

// Where the simulated coordinator writes: nowhere, counting the trials. Without a store the
// simulator keeps every row (millions of metric rows at 10,000 groups) in a MemoryStore, whose
// memory the peak-RSS column would then measure instead of the coordinator's. The figures the
// study needs come from SimulationResult, so the rows are dropped.
class CountingStore final : public ResultStore {
 public:
  size_t trials() const { return ids_.size(); }
  void begin(const ExperimentInfo&, const std::vector<GroupRecord>&) override {}
  void upsert_trial(const TrialRecord& t) override { ids_.insert(t.id); }
  void append_metric(const MetricRecord&) override {}
  void append_decision(const DecisionRecord&) override {}
  void append_transfer(const TransferRecord&) override {}
  void set_summary(const SummaryRecord&) override {}
  void append_final(const FinalRecord&, const std::vector<FinalDocumentRecord>&) override {}
  void append_event(const EventRecord&) override {}
  void set_segment(const SegmentRecord&) override {}
  void flush() override {}
  void close() override {}

 private:
  std::unordered_set<TrialId> ids_;
};

std::string figures_line(const PointSpec& spec) {
  const ExperimentConfig cfg = parse_config(IniFile::parse(point_config(spec), "scaling point"));
  const CostModel cost(cfg.simulate, cfg.space, cfg.experiment.seed);
  SimulationSetup setup;
  setup.cfg = &cfg;
  setup.num_groups = spec.groups;
  setup.make_trainable = [&] { return make_synthetic_trainable(cfg); };
  setup.cost_model = &cost;
  CountingStore store;
  setup.store = &store;
  const auto t0 = std::chrono::steady_clock::now();
  const SimulationResult r = simulate(setup);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const SimulationFigures f = simulation_figures(r, spec.groups);
  char line[512];
  std::snprintf(line, sizeof line, "ok %.17g %.17g %.17g %.17g %lld %lld %lld %lld %.6f\n", r.elapsed, f.ideal_s,
                f.utilisation, f.overhead, static_cast<long long>(store.trials()),
                static_cast<long long>(r.steps), static_cast<long long>(r.decisions),
                static_cast<long long>(r.events), wall);
  return line;
}

void write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

int64_t effective_max_t(const PointSpec& s) {
  if (s.max_t > 0) return s.max_t;
  const std::string type = scheduler_type(s.scheduler);
  return type == "fifo" ? 9 : type == "pbt" ? 100 : 81;
}

const std::vector<std::string>& study_schedulers() {
  static const std::vector<std::string> names = {"fifo", "fifo-fixed", "asha", "hyperband", "bohb", "pbt"};
  return names;
}

std::string point_config(const PointSpec& s) {
  std::string text = kBase;
  text.replace(text.find("trainable = synthetic\n"), 22,
               "trainable = synthetic\nseed = " + std::to_string(s.seed) + "\nmax_trials = " +
                   std::to_string(s.trials) + "\n");
  const bool fixed = s.scheduler == "fifo-fixed";
  std::ostringstream sim;
  sim << "[simulate]\nstep_seconds = " << s.step_seconds << "\njitter = " << (fixed ? 0 : s.jitter)
      << "\nstraggler_fraction = " << (fixed ? 0 : s.straggler_fraction)
      << "\nstraggler_factor = " << (fixed ? 1 : s.straggler_factor) << "\n";
  return text + scheduler_section(s) + sim.str();
}

double fifo_analytic_utilisation(int64_t trials, int groups) {
  const int64_t waves = (trials + groups - 1) / groups;
  return waves > 0 ? static_cast<double>(trials) / (static_cast<double>(groups) * waves) : 0.0;
}

PointResult run_point(const PointSpec& spec) {
  PointResult out;
  out.spec = spec;
  out.spec.max_t = effective_max_t(spec);
  const bool fixed_fifo = spec.scheduler == "fifo-fixed" || (spec.scheduler == "fifo" && spec.jitter == 0 &&
                                                             spec.straggler_fraction == 0);
  if (fixed_fifo) {
    out.analytic_utilisation = fifo_analytic_utilisation(spec.trials, spec.groups);
    const int64_t max_t = effective_max_t(spec);
    out.analytic_elapsed_s = static_cast<double>((spec.trials + spec.groups - 1) / spec.groups) * max_t * spec.step_seconds;
  }
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) {
    out.error = std::string("pipe: ") + std::strerror(errno);
    return out;
  }
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) {
    out.error = std::string("fork: ") + std::strerror(errno);
    return out;
  }
  if (child == 0) {
    ::close(pipe_fd[0]);
    if (spec.time_limit_s > 0) ::alarm(static_cast<unsigned>(spec.time_limit_s));  // SIGALRM ends it
    std::string line;
    try {
      line = figures_line(spec);
    } catch (const std::exception& e) {
      line = std::string("error ") + e.what() + "\n";
    }
    write_all(pipe_fd[1], line);
    ::close(pipe_fd[1]);
    ::_exit(0);
  }
  ::close(pipe_fd[1]);
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = ::read(pipe_fd[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(pipe_fd[0]);
  int status = 0;
  struct rusage usage {};
  ::wait4(child, &status, 0, &usage);
  out.peak_rss_mb = usage.ru_maxrss / 1024.0;  // kilobytes on Linux
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
    out.timed_out = true;
    out.error = "exceeded the time limit of " + std::to_string(spec.time_limit_s) + " s";
    return out;
  }
  if (WIFSIGNALED(status)) {
    out.error = std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (out of memory?)";
    return out;
  }
  std::istringstream in(text);
  std::string tag;
  in >> tag;
  if (tag != "ok") {
    out.error = text.empty() ? "no result from the child" : text.substr(tag == "error" ? 6 : 0);
    while (!out.error.empty() && out.error.back() == '\n') out.error.pop_back();
    return out;
  }
  in >> out.elapsed_s >> out.ideal_s >> out.utilisation >> out.overhead >> out.trials_run >> out.steps >>
      out.decisions >> out.events >> out.wall_s;
  if (!in) out.error = "unreadable result line: " + text;
  return out;
}

}  // namespace scaling
}  // namespace mpitune
