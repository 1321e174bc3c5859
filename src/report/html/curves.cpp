// Learning curves of every trial, against steps and against device-minutes (see sections.hpp).
//
// Drawn in full: the best max_full_curves trials of the ranking (experiment_view.hpp), each
// thinned to max_points_per_curve points. Styles say what happened to a trial: stopped (or
// failed) trials faded with their last point marked, survivors (completed, early-stopped,
// running) in blue, the best trial bold in vermillion (Okabe-Ito colours). The trials not drawn
// become a band: the 10%-90% range and the median of their values in each of 60 bins of the x
// axis, so 1,000 trials read as a distribution rather than a hairball.
#include <algorithm>
#include <cmath>

#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace html {
namespace {

enum class XAxis { Step, DeviceMinutes };

double x_of(const SeriesPoint& p, XAxis axis) {
  return axis == XAxis::Step ? static_cast<double>(p.step) : p.device_minutes;
}

double quantile_of(std::vector<double>& values, double q) {
  if (values.empty()) return kNaN;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(q * (values.size() - 1) + 0.5));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

bool survived(TrialStatus s) {
  return s == TrialStatus::Completed || s == TrialStatus::EarlyStopped || s == TrialStatus::Running ||
         s == TrialStatus::Pending;
}

Figure curves_figure(const ExperimentView& v, const HtmlReportOptions& options, XAxis axis) {
  const bool x_log = axis == XAxis::Step && geometric_budgets(*v.run);
  std::vector<size_t> with_series;
  for (size_t i : v.ranked)
    if (!v.trials[i].series.empty()) with_series.push_back(i);
  const size_t full = std::min(with_series.size(), static_cast<size_t>(std::max(0, options.max_full_curves)));

  // Ranges: x over every point; y over the 0.5%-99.5% quantiles (a diverged trial's first
  // values must not squash every other curve into a line), points beyond it clamped.
  std::vector<double> xs, ys;
  const size_t stride = std::max<size_t>(1, static_cast<size_t>(v.metric_rows / 200000));
  size_t counter = 0;
  for (size_t i : with_series)
    for (const auto& p : v.trials[i].series) {
      const double x = x_of(p, axis);
      if (x_log && x <= 0) continue;
      xs.push_back(x);
      if (counter++ % stride == 0) ys.push_back(p.value);
    }
  auto x_range = data_range(xs, x_log);
  std::vector<double> y_sorted = ys;
  const double y_lo = quantile_of(y_sorted, 0.005), y_hi = quantile_of(y_sorted, 0.995);
  auto y_range = data_range({y_lo, y_hi}, false);
  if (axis == XAxis::DeviceMinutes && !xs.empty()) x_range.first = std::max(0.0, x_range.first);

  const std::string kind = axis == XAxis::Step ? "learning-curves-step" : "learning-curves-device-minutes";
  const std::string attributes = "data-trials=\"" + std::to_string(with_series.size()) + "\" data-curves=\"" +
                                 std::to_string(full) + "\" data-banded=\"" +
                                 std::to_string(with_series.size() - full) + "\"";
  Chart c(kind, display_name(*v.run) + ": " + metric_label(*v.run) + " per trial",
          axis == XAxis::Step ? std::string("training step") + (x_log ? " (log scale)" : "")
                              : "device-minutes of the experiment (min)",
          metric_label(*v.run), x_range, y_range, x_log, false, attributes);
  c.axes();
  auto to_px = [&](const SeriesPoint& p) {
    const double y = std::min(y_range.second, std::max(y_range.first, p.value));
    return std::make_pair(c.x(x_of(p, axis)), c.y(y));
  };

  // The band of the trials not drawn.
  if (with_series.size() > full) {
    const int bins = 60;
    std::vector<std::vector<double>> per_bin(bins);
    const Scale unit{x_range.first, x_range.second, 0, static_cast<double>(bins), x_log};
    for (size_t k = full; k < with_series.size(); ++k)
      for (const auto& p : v.trials[with_series[k]].series) {
        const double x = x_of(p, axis);
        if (x_log && x <= 0) continue;
        const int b = std::min(bins - 1, std::max(0, static_cast<int>(unit(x))));
        per_bin[b].push_back(p.value);
      }
    std::vector<std::pair<double, double>> upper, lower, median;
    for (int b = 0; b < bins; ++b) {
      if (per_bin[b].empty()) continue;
      const double px_x = c.left + (b + 0.5) * (c.right - c.left) / bins;
      auto clamp = [&](double y) { return c.y(std::min(y_range.second, std::max(y_range.first, y))); };
      upper.push_back({px_x, clamp(quantile_of(per_bin[b], 0.9))});
      lower.push_back({px_x, clamp(quantile_of(per_bin[b], 0.1))});
      median.push_back({px_x, clamp(quantile_of(per_bin[b], 0.5))});
    }
    std::vector<std::pair<double, double>> outline = upper;
    outline.insert(outline.end(), lower.rbegin(), lower.rend());
    c.svg.open_group("band", "data-trials=\"" + std::to_string(with_series.size() - full) + "\"");
    c.svg.polygon(outline, "band-area", "fill:#56B4E9;fill-opacity:0.25;stroke:none");
    c.svg.polyline(median, "band-median", "fill:none;stroke:#56B4E9;stroke-width:1.5;stroke-dasharray:4 2");
    c.svg.close_group();
  }

  // Drawn curves, faded ones first so that survivors and the best lie on top.
  std::vector<size_t> order(with_series.begin(), with_series.begin() + full);
  auto layer = [&](size_t i) {
    if (static_cast<int>(i) == v.best_index) return 2;
    return survived(v.trials[i].record->status) ? 1 : 0;
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return layer(a) < layer(b); });
  bool any_faded = false, any_survivor = false;
  for (size_t i : order) {
    const TrialView& t = v.trials[i];
    std::vector<std::pair<double, double>> pts;
    for (size_t k : even_sample(t.series.size(), static_cast<size_t>(std::max(2, options.max_points_per_curve)))) {
      if (x_log && x_of(t.series[k], axis) <= 0) continue;
      pts.push_back(to_px(t.series[k]));
    }
    const int l = layer(i);
    const std::string status = trial_status_name(t.record->status);
    const std::string cls = l == 2 ? "curve best" : l == 1 ? "curve survivor" : "curve stopped";
    const std::string style = l == 2   ? "fill:none;stroke:#D55E00;stroke-width:3"
                              : l == 1 ? "fill:none;stroke:#0072B2;stroke-width:1.3;stroke-opacity:0.85"
                                       : "fill:none;stroke:#7f7f7f;stroke-width:1;stroke-opacity:0.35";
    any_faded = any_faded || l == 0;
    any_survivor = any_survivor || l == 1;
    const SeriesPoint& last = t.series.back();
    c.svg.polyline(pts, cls, style,
                   "trial " + std::to_string(t.record->id) + " (" + status + ", step " + std::to_string(last.step) +
                       "): " + short_number(last.value, 5),
                   "data-trial=\"" + std::to_string(t.record->id) + "\"");
    if (l == 0 && !pts.empty())
      c.svg.circle(pts.back().first, pts.back().second, 2.2, "stop-mark",
                   t.record->status == TrialStatus::Failed ? "fill:#000000" : "fill:#7f7f7f;fill-opacity:0.7");
  }
  if (v.best_index >= 0) c.legend("best trial " + std::to_string(v.best.trial), "#D55E00", false, 3);
  if (any_survivor) c.legend("survivors", "#0072B2");
  if (any_faded) c.legend("stopped (o: last)", "#7f7f7f");
  if (with_series.size() > full) c.legend("others 10-90%", "#56B4E9", true, 6);

  Figure f;
  f.name = axis == XAxis::Step ? "learning_curves_step" : "learning_curves_device_minutes";
  f.svg = c.svg.finish();
  f.caption = std::to_string(with_series.size()) + " trials with a value of " + v.metric + "; " +
              std::to_string(full) + " drawn in full (the best by final result" +
              (full < with_series.size() ? "; the other " + std::to_string(with_series.size() - full) +
                                               " as the band of their 10%-90% range and median"
                                         : "") +
              "), each with at most " + std::to_string(options.max_points_per_curve) + " points. Stopped trials faded, " +
              "their last point marked (black: failed). " +
              (axis == XAxis::Step ? (x_log ? "Budgets are geometric: log-scaled steps." : "")
                                   : "x: device-minutes the whole experiment had used when the value was reported.");
  return f;
}

}  // namespace

Section learning_curves_section(const ExperimentView& v, const HtmlReportOptions& options) {
  if (v.metric_rows == 0)
    return missing_section("learning-curves", "Learning curves",
                           "no learning curves: /metrics has no finite value of " + v.metric + " yet");
  Section s;
  s.name = "learning-curves";
  s.title = "Learning curves";
  s.figures.push_back(curves_figure(v, options, XAxis::Step));
  s.figures.push_back(curves_figure(v, options, XAxis::DeviceMinutes));
  return s;
}

}  // namespace html
}  // namespace mpitune
