// The simulator half of the scaling study (docs/scaling.md; mpi_scripts/scaling_study.sh runs it
// next to the real runs under mpirun): utilisation, overhead against the ideal time and
// decisions per second for FIFO, ASHA, Hyperband, BOHB and PBT on 16 .. 10,000 simulated
// groups, and Ray Tune's release test of bookkeeping overhead (10,000 trials of 1 s on 16
// workers) in the simulator. Writes CSV, markdown table fragments and SVG plots into OUTDIR.
//
//   scaling_study OUTDIR [--quick] [--groups 16,64,...] [--trials-per-group K]
//                 [--schedulers fifo,asha,...] [--ray-trials N] [--no-ray] [--point-time-limit S]
//
// The cost model (every scheduler but fifo-fixed): 1 s a step, jitter 0.1 (a step takes
// 1 +- 10%, uniform), 2% of the groups stragglers at twice the step time. Trials scale with the
// groups: K trials per group (20; PBT: a population of one member per group). --quick: groups
// 4 and 16, K = 4, the Ray test with 100 trials (a last wave of 4 trials on 16 groups, so
// its analytic utilisation is 100/112, not 1). A point that runs past --point-time-limit (90 s)
// is recorded as timed out, and that scheduler's larger group counts as skipped: the study
// shows where a scheduler stops scaling instead of running for hours.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "scaling_plots.hpp"
#include "scaling_sweep.hpp"

using namespace mpitune::scaling;

namespace {

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "scaling_study: %s\nusage: scaling_study OUTDIR [--quick] [--groups 16,64,...] [--trials-per-group K] "
               "[--schedulers fifo,fifo-fixed,asha,hyperband,bohb,pbt] [--ray-trials N] [--no-ray] [--point-time-limit S]\n",
               problem.c_str());
  std::exit(2);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

long positive(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n <= 0) usage(flag + " needs positive integers, got '" + v + "'");
  return n;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) {
    std::fprintf(stderr, "scaling_study: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

std::string num(double v, const char* fmt = "%.6g") {
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

const char* kCsvHeader =
    "kind,scheduler,groups,trials,max_t,step_seconds,jitter,straggler_fraction,straggler_factor,seed,trials_run,steps,"
    "elapsed_s,ideal_s,utilisation,overhead,analytic_utilisation,analytic_elapsed_s,decisions,events,decisions_per_s,"
    "events_per_s,wall_s,peak_rss_mb,error\n";

std::string csv_row(const std::string& kind, const PointResult& p) {
  const PointSpec& s = p.spec;
  auto rate = [&](int64_t n) { return p.wall_s > 0 ? num(n / p.wall_s, "%.0f") : std::string(); };
  std::string err = p.error;
  for (char& c : err)
    if (c == ',' || c == '\n' || c == '"') c = ' ';
  return kind + "," + s.scheduler + "," + std::to_string(s.groups) + "," + std::to_string(s.trials) + "," +
         std::to_string(s.max_t) + "," + num(s.step_seconds) + "," + num(s.jitter) + "," + num(s.straggler_fraction) +
         "," + num(s.straggler_factor) + "," + std::to_string(s.seed) + "," + std::to_string(p.trials_run) + "," +
         std::to_string(p.steps) + "," + num(p.elapsed_s, "%.17g") + "," + num(p.ideal_s, "%.17g") + "," +
         num(p.utilisation, "%.17g") + "," + num(p.overhead, "%.17g") + "," +
         (p.analytic_utilisation >= 0 ? num(p.analytic_utilisation, "%.17g") : "") + "," +
         (p.analytic_elapsed_s >= 0 ? num(p.analytic_elapsed_s, "%.17g") : "") + "," + std::to_string(p.decisions) +
         "," + std::to_string(p.events) + "," + rate(p.decisions) + "," + rate(p.events) + "," + num(p.wall_s, "%.3f") +
         "," + num(p.peak_rss_mb, "%.1f") + "," + err + "\n";
}

std::string md_row(const PointResult& p) {
  if (!p.error.empty())
    return "| " + p.spec.scheduler + " | " + std::to_string(p.spec.groups) + " | " + std::to_string(p.spec.trials) +
           " | " + p.error + " | | | | | |\n";
  return "| " + p.spec.scheduler + " | " + std::to_string(p.spec.groups) + " | " + std::to_string(p.trials_run) + " | " +
         num(p.utilisation, "%.4f") + " | " + num(100 * p.overhead, "%.2f") + "% | " + num(p.elapsed_s, "%.1f") + " | " +
         num(p.ideal_s, "%.1f") + " | " + num(p.wall_s > 0 ? p.decisions / p.wall_s : 0, "%.0f") + " | " +
         num(p.wall_s, "%.2f") + " | " + num(p.peak_rss_mb, "%.0f") + " |\n";
}

const char* kMdHeader =
    "| scheduler | groups | trials | utilisation | overhead | elapsed (virtual s) | ideal (s) | decisions/s | "
    "wall (s) | peak RSS (MB) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') usage("the first argument is the output folder");
  const std::string out = argv[1];
  bool quick = false, ray = true;
  std::vector<long> groups = {16, 64, 256, 1000, 4000, 10000};
  long per_group = 20, ray_trials = 10000, time_limit = 90;
  std::vector<std::string> schedulers = study_schedulers();
  bool groups_given = false, per_group_given = false, ray_given = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") quick = true;
    else if (a == "--no-ray") ray = false;
    else if (a == "--groups") {
      groups.clear();
      for (const auto& g : split(value())) groups.push_back(positive("--groups", g));
      groups_given = true;
    } else if (a == "--trials-per-group") {
      per_group = positive(a, value());
      per_group_given = true;
    } else if (a == "--ray-trials") {
      ray_trials = positive(a, value());
      ray_given = true;
    } else if (a == "--point-time-limit") {
      time_limit = positive(a, value());
    } else if (a == "--schedulers") {
      schedulers = split(value());
      for (const auto& s : schedulers) {
        bool known = false;
        for (const auto& k : study_schedulers()) known = known || k == s;
        if (!known) usage("unknown scheduler '" + s + "'");
      }
    } else usage("unknown argument '" + a + "'");
  }
  if (quick) {
    if (!groups_given) groups = {4, 16};
    if (!per_group_given) per_group = 4;
    if (!ray_given) ray_trials = 100;
  }
  ::mkdir(out.c_str(), 0755);

  std::vector<PointResult> points;
  std::map<std::string, long> timed_out_at;  // scheduler -> the group count at which it timed out
  std::string csv = kCsvHeader, md = kMdHeader;
  std::printf("scaling_study: cost model 1 s a step, jitter 0.1, 2%% stragglers at 2x (fifo-fixed: none); "
              "%ld trials per group (PBT: population = groups)\n", per_group);
  for (long g : groups)
    for (const std::string& s : schedulers) {
      PointSpec spec;
      spec.scheduler = s;
      spec.groups = static_cast<int>(g);
      spec.trials = s == "pbt" ? g : g * per_group;
      spec.step_seconds = 1;
      spec.jitter = 0.1;
      spec.straggler_fraction = 0.02;
      spec.straggler_factor = 2;
      spec.time_limit_s = static_cast<int>(time_limit);
      PointResult p;
      if (timed_out_at.count(s)) {
        p.spec = spec;
        p.error = "skipped: timed out at " + std::to_string(timed_out_at[s]) + " groups";
      } else {
        p = run_point(spec);
        if (p.timed_out) timed_out_at[s] = g;
      }
      std::printf("  %-10s groups %6ld trials %8lld: utilisation %.4f overhead %6.2f%% decisions/s %9.0f wall %7.2f s "
                  "rss %6.0f MB%s%s\n",
                  s.c_str(), g, static_cast<long long>(p.trials_run), p.utilisation, 100 * p.overhead,
                  p.wall_s > 0 ? p.decisions / p.wall_s : 0, p.wall_s, p.peak_rss_mb, p.error.empty() ? "" : " -- ",
                  p.error.c_str());
      std::fflush(stdout);
      points.push_back(p);
      csv += csv_row("sweep", p);
      md += md_row(p);
    }
  write_file(out + "/simulator_sweep.csv", csv);
  write_file(out + "/simulator_sweep.md", md);
  for (const PlotFile& f : sweep_plots(points)) write_file(out + "/" + f.name, f.svg);

  int failed = 0;  // timeouts and the skips after them are results, not failures
  for (const auto& p : points) failed += !p.error.empty() && !p.timed_out && p.error.rfind("skipped", 0) != 0;
  if (ray) {
    // Ray Tune's release test: 10,000 trials that each sleep 1 s, on 16 workers; Ray measured
    // 715 s against 625 s ideal. Here: FIFO, 16 groups, trials of one 1-s step, fixed.
    PointSpec spec;
    spec.scheduler = "fifo-fixed";
    spec.groups = 16;
    spec.trials = ray_trials;
    spec.max_t = 1;
    spec.step_seconds = 1;
    const PointResult p = run_point(spec);
    failed += !p.error.empty();
    std::printf("Ray release test in the simulator: %ld trials of 1 s on 16 groups: elapsed %.2f s, ideal %.2f s "
                "(analytic elapsed %.2f s), overhead %.2f%%, wall %.2f s%s%s\n",
                ray_trials, p.elapsed_s, p.ideal_s, p.analytic_elapsed_s, 100 * p.overhead, p.wall_s,
                p.error.empty() ? "" : " -- ", p.error.c_str());
    write_file(out + "/ray_release_simulated.csv", std::string(kCsvHeader) + csv_row("ray", p));
    write_file(out + "/ray_release_simulated.md",
               "| setting | trials | groups | elapsed (s) | ideal (s) | overhead |\n|---|---:|---:|---:|---:|---:|\n"
               "| Ray Tune release test (published) | 10000 | 16 | 715 | 625 | 14.4% |\n"
               "| mpitune simulator | " + std::to_string(ray_trials) + " | 16 | " + num(p.elapsed_s, "%.2f") + " | " +
                   num(p.ideal_s, "%.2f") + " | " + num(100 * p.overhead, "%.2f") + "% |\n");
  }
  std::printf("scaling_study: wrote %s/simulator_sweep.{csv,md}, utilisation.svg, overhead.svg, decisions_per_s.svg%s\n",
              out.c_str(), ray ? ", ray_release_simulated.{csv,md}" : "");
  return failed ? 1 : 0;
}
