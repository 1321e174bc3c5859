// The HTML report on a large experiment: 100,000 trials and 1,000,000 metric rows (hand-built,
// ASHA-like: 64 groups, rungs at 1, 3, 9, 27, 81 steps, two numeric and one categorical
// hyperparameter). Prints the render time and the page's size; the targets are under 30 s and
// under 20 MB. Usage: html_report_bench [trials] [rows_per_trial] [page.html] [results.h5]
// With results.h5 (a build with HDF5) the experiment is also written there through the result
// store, so `time mpitune report results.h5 --html page.html` measures what a user waits for,
// reading the file included.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mpitune/core/file_io.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/report/html_report.hpp"
#ifdef MPITUNE_BENCH_HDF5
#include "mpitune/store/hdf5_store.hpp"
#endif

using namespace mpitune;

static ExperimentData large_experiment(int64_t trials, int rows_per_trial) {
  ExperimentData d;
  d.info.name = "large asha";
  d.info.metric = "eval_loss";
  d.info.mode = "min";
  d.info.scheduler = "asha";
  d.info.searcher = "random";
  d.info.trainable = "synthetic";
  d.info.world_size = 65;
  d.info.group_size = 1;
  d.info.num_groups = 64;
  d.info.devices = 64;
  d.info.max_t = 81;
  d.info.start_time = 1.7e9;
  d.info.space = Space({Space::parse_domain("lr", "loguniform(1e-5, 1e-1)"), Space::parse_domain("wd", "uniform(0, 0.3)"),
                        Space::parse_domain("act", "choice(relu, gelu, silu)")});
  Rng rng(11);
  const int64_t rungs[] = {1, 3, 9, 27, 81};
  std::vector<double> group_free(64, d.info.start_time);
  d.trials.reserve(trials);
  d.metrics.reserve(trials * rows_per_trial);
  for (int64_t i = 0; i < trials; ++i) {
    TrialRecord t;
    t.id = i;
    t.group = static_cast<int>(i % 64);
    t.hparams = d.info.space.sample(rng);
    const double lr = t.hparams.at("lr").as_double(), wd = t.hparams.at("wd").as_double();
    const double quality = std::pow(std::log10(lr) + 3, 2) * 0.1 + wd + 0.05 * rng.uniform01();
    // Promoted to rung r with probability 1/3^r (ASHA's funnel).
    int reached = 0;
    while (reached < 4 && rng.uniform01() < 1.0 / 3) ++reached;
    const int64_t last = rungs[reached];
    t.start_time = group_free[t.group];
    for (int k = 1; k <= rows_per_trial; ++k) {
      MetricRecord m;
      m.trial = i;
      m.step = std::max<int64_t>(1, last * k / rows_per_trial);
      m.time = t.start_time + m.step * 2.0;
      m.eval_loss = 2 + quality + 3.0 / std::sqrt(static_cast<double>(m.step));
      m.train_loss = m.eval_loss;
      d.metrics.push_back(m);
      t.last_metric = m.eval_loss;
      t.best_metric = std::isnan(t.best_metric) ? m.eval_loss : std::min(t.best_metric, m.eval_loss);
    }
    t.last_step = last;
    t.metric_step = last;
    t.end_time = t.start_time + last * 2.0;
    group_free[t.group] = t.end_time + 0.5;
    t.status = last == 81 ? TrialStatus::Completed : TrialStatus::Stopped;
    t.device_seconds = last * 2.0;
    d.trials.push_back(t);
    DecisionRecord start;
    start.trial = i;
    start.action = "start";
    start.bracket = 0;
    start.time = t.start_time;
    d.decisions.push_back(start);
    for (int r = 0; r <= reached; ++r) {
      DecisionRecord dec;
      dec.trial = i;
      dec.step = rungs[r];
      dec.rung = r;
      dec.bracket = 0;
      dec.budget = static_cast<double>(rungs[r]);
      dec.action = r == reached ? (last == 81 ? "complete" : "stop") : "continue";
      dec.time = t.start_time + rungs[r] * 2.0;
      d.decisions.push_back(dec);
    }
  }
  d.summary.status = "finished";
  double end = 0;
  for (double f : group_free) end = std::max(end, f);
  d.summary.elapsed_s = end - d.info.start_time;
  d.summary.end_time = end;
  d.summary.trials = trials;
  return d;
}

int main(int argc, char** argv) {
  const int64_t trials = argc > 1 ? std::atoll(argv[1]) : 100000;
  const int rows = argc > 2 ? std::atoi(argv[2]) : 10;
  const std::string out = argc > 3 ? argv[3] : "";
  const auto t0 = std::chrono::steady_clock::now();
  const ExperimentData d = large_experiment(trials, rows);
  const auto t1 = std::chrono::steady_clock::now();
  const std::string page = format_html_report({d}, {}, HtmlReportOptions{});
  const auto t2 = std::chrono::steady_clock::now();
  if (!out.empty()) write_file_atomic(out, page.data(), page.size());
  if (argc > 4) {
#ifdef MPITUNE_BENCH_HDF5
    const auto w0 = std::chrono::steady_clock::now();
    auto store = create_hdf5_store(argv[4], /*overwrite=*/true);
    store->begin(d.info, {});
    for (const auto& t : d.trials) store->upsert_trial(t);
    for (const auto& m : d.metrics) store->append_metric(m);
    for (const auto& x : d.decisions) store->append_decision(x);
    store->set_summary(d.summary);
    store->close();
    std::printf("html_report_bench: wrote %s in %.1f s\n", argv[4],
                std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
#else
    std::fprintf(stderr, "html_report_bench: built without HDF5: cannot write %s\n", argv[4]);
    return 2;
#endif
  }
  const double build_s = std::chrono::duration<double>(t1 - t0).count();
  const double render_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf("html_report_bench: %lld trials, %zu metric rows (built in %.2f s): rendered in %.2f s, page %.2f MB "
              "(targets: < 30 s, < 20 MB)\n",
              static_cast<long long>(trials), d.metrics.size(), build_s, render_s, page.size() / 1e6);
  return render_s < 30 && page.size() < 20e6 ? 0 : 1;
}
