// One experiment's cost-table figures (see run_cost.hpp).
#include "mpitune/report/run_cost.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "mpitune/core/error.hpp"
#include "mpitune/report/test_comparison.hpp"
#include "mpitune/store/best_trial.hpp"

namespace mpitune {
namespace {

bool better(double a, double b, bool maximize) { return maximize ? a > b : a < b; }

// The last /final row with this label, or null.
const FinalRecord* final_row(const ExperimentData& run, const std::string& label) {
  const FinalRecord* found = nullptr;
  for (const auto& f : run.finals)
    if (f.label == label) found = &f;
  return found;
}

// The /metrics row that reported the trial's final result: the trial's row at its metric_step
// with a finite metric value (the latest one if it was reported more than once), or null.
const MetricRecord* final_result_row(const ExperimentData& run, const TrialRecord& t) {
  const MetricRecord* found = nullptr;
  for (const auto& m : run.metrics) {
    if (m.trial != t.id || m.step != t.metric_step || !std::isfinite(metric_value(m, run.info.metric))) continue;
    if (!found || m.time >= found->time) found = &m;
  }
  return found;
}

const TrialRecord* find_trial(const ExperimentData& run, TrialId id) {
  for (const auto& t : run.trials)
    if (t.id == id) return &t;
  return nullptr;
}

// The segments in index order (the file keeps them in the order first written, which is the
// same for files mpitune writes).
std::vector<SegmentRecord> segments_in_order(const ExperimentData& run) {
  std::vector<SegmentRecord> out = run.segments;
  std::stable_sort(out.begin(), out.end(),
                   [](const SegmentRecord& a, const SegmentRecord& b) { return a.index < b.index; });
  return out;
}

int segment_devices(const SegmentRecord& s, const ExperimentInfo& info) {
  return s.devices > 0 ? s.devices : experiment_devices(info);
}

}  // namespace

ActiveTime active_time(const ExperimentData& run, double time) {
  ActiveTime a;
  if (std::isnan(time)) return a;
  const double since_start = time - run.info.start_time;
  if (run.segments.empty()) {
    a.seconds = since_start;
    a.device_minutes = experiment_devices(run.info) * since_start / 60.0;
    return a;
  }
  // Segment i runs from its start (the experiment's for the first) for the time it ran, and
  // the stretch up to the next start that it did not run is the gap. The segment `time` falls
  // in (the last one begun by then) runs up to `time` whatever its elapsed_s says: a job that
  // died without a word last wrote elapsed_s a flush interval before it died.
  const std::vector<SegmentRecord> segments = segments_in_order(run);
  a.seconds = 0;
  a.device_minutes = 0;
  double from = run.info.start_time;
  for (size_t i = 0; i < segments.size(); ++i) {
    const bool last = i + 1 == segments.size() || segments[i + 1].start_time > time;
    double stretch;
    if (last) {
      stretch = time - from;
    } else {
      const double gap =
          std::max(0.0, segments[i + 1].start_time - segments[i].start_time - segments[i].elapsed_s);
      stretch = segments[i + 1].start_time - from - gap;
      from = segments[i + 1].start_time;
    }
    a.seconds += stretch;
    a.device_minutes += segment_devices(segments[i], run.info) * stretch / 60.0;
    if (last) break;
  }
  return a;
}

JobsSummary summarize_jobs(const ExperimentData& run) {
  JobsSummary j;
  if (run.segments.empty()) return j;
  const std::vector<SegmentRecord> segments = segments_in_order(run);
  j.jobs = static_cast<int>(segments.size());
  j.last_status = segments.back().status;
  j.compute_s = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    j.compute_s += segments[i].elapsed_s;
    if (i + 1 < segments.size()) (segments[i].status == "interrupted" ? j.interrupted : j.aborted) += 1;
  }
  const SegmentRecord& last = segments.back();
  const double end = std::isfinite(last.end_time) ? last.end_time : last.start_time + last.elapsed_s;
  j.wall_s = end - segments.front().start_time;
  return j;
}

int experiment_devices(const ExperimentInfo& info) {
  if (info.devices > 0) return info.devices;
  return info.world_size > 1 ? info.world_size - 1 : info.world_size;
}

double metric_value(const MetricRecord& m, const std::string& metric) {
  return metric == "train_loss" ? m.train_loss : m.eval_loss;
}

RunCost compute_run_cost(const ExperimentData& run) {
  const ExperimentInfo& info = run.info;
  if (info.metric != "eval_loss" && info.metric != "train_loss")
    throw ConfigError("experiment '" + info.name + "'", "metric '" + info.metric + "' is not reported in /metrics",
                      "report experiments whose metric is eval_loss or train_loss");
  RunCost c;
  c.name = info.name;
  c.method = info.scheduler + "+" + info.searcher;
  c.metric = info.metric;
  c.mode = info.mode;
  c.max_t = info.max_t;
  c.devices = experiment_devices(info);
  const bool maximize = info.mode == "max";

  const BestChoice best = select_best_trial(run.trials, info.max_t, maximize);
  c.best_trial = best.trial;
  c.best = best.metric;
  c.best_budget = best.budget;
  c.best_at_full_budget = best.at_full_budget;
  const TrialRecord* best_trial = best.trial >= 0 ? find_trial(run, best.trial) : nullptr;
  if (best_trial) c.best_step = best_trial->metric_step;
  const MetricRecord* best_row = best_trial ? final_result_row(run, *best_trial) : nullptr;
  if (best_row) {
    const ActiveTime to_best = active_time(run, best_row->time);
    c.time_to_best_s = to_best.seconds;
    c.device_minutes_to_best = to_best.device_minutes;
  }

  double best_any_time = kNaN;
  double last_time = kNaN;
  for (const auto& m : run.metrics) {
    last_time = std::isnan(last_time) ? m.time : std::max(last_time, m.time);
    const double v = metric_value(m, info.metric);
    if (std::isnan(v)) continue;
    // An equal value reported earlier (rows need not be in time order) is where it was first reached.
    if (std::isnan(c.best_any) || better(v, c.best_any, maximize) || (v == c.best_any && m.time < best_any_time)) {
      c.best_any = v;
      c.best_any_trial = m.trial;
      c.best_any_step = m.step;
      best_any_time = m.time;
    }
  }
  for (const auto& d : run.decisions) last_time = std::isnan(last_time) ? d.time : std::max(last_time, d.time);
  for (const auto& t : run.transfers) last_time = std::isnan(last_time) ? t.time : std::max(last_time, t.time);
  if (!run.segments.empty()) {
    c.device_minutes_total = 0;
    for (const auto& s : run.segments) c.device_minutes_total += segment_devices(s, info) * s.elapsed_s / 60.0;
  } else if (run.summary.elapsed_s > 0)
    c.device_minutes_total = c.devices * run.summary.elapsed_s / 60.0;
  else if (last_time > info.start_time)  // false for NaN: nothing recorded yet
    c.device_minutes_total = c.devices * (last_time - info.start_time) / 60.0;

  if (const FinalRecord* test = test_row(run)) {
    c.test_label = test->label;
    c.test_trial = test->trial;
    c.test_step = test->step;
    c.test_loss = test->test_loss;
    c.test_ci_low = test->test_ci_low;
    c.test_ci_high = test->test_ci_high;
    c.test_documents = test->test_documents;
    c.bootstrap = test->bootstrap;
    c.best_retention_loss = test->retention_loss;
  }
  if (std::isnan(c.best_retention_loss) && best_row) c.best_retention_loss = best_row->retention_loss;
  if (const FinalRecord* base = final_row(run, "base")) {
    c.has_base = true;
    c.base_test_loss = base->test_loss;
    c.base_retention_loss = base->retention_loss;
  }
  return c;
}

double cost_ratio(double device_minutes_to_best, double reference_device_minutes_to_best) {
  if (std::isnan(device_minutes_to_best) || std::isnan(reference_device_minutes_to_best) ||
      reference_device_minutes_to_best <= 0)
    return kNaN;
  return device_minutes_to_best / reference_device_minutes_to_best;
}

double cost_ratio(const RunCost& run, const RunCost& reference) {
  return cost_ratio(run.device_minutes_to_best, reference.device_minutes_to_best);
}

TargetReach time_to_reach(const ExperimentData& run, double target) {
  TargetReach r;
  if (std::isnan(target)) return r;
  const bool maximize = run.info.mode == "max";
  double first = kNaN;
  for (const auto& m : run.metrics) {
    const double v = metric_value(m, run.info.metric);
    if (std::isnan(v) || better(target, v, maximize)) continue;  // not at least as good
    if (std::isnan(first) || m.time < first) first = m.time;
  }
  if (std::isnan(first)) return r;
  r.reached = true;
  const ActiveTime to_target = active_time(run, first);
  r.time_s = to_target.seconds;
  r.device_minutes = to_target.device_minutes;
  return r;
}

}  // namespace mpitune
