// Parallel coordinates of the hyperparameters and a metric-vs-hyperparameter scatter plot per
// dimension (see sections.hpp).
//
// Both use the trials with a final result (best_trial.hpp), its value as the metric. Large
// experiments are thinned by an evenly spaced sample over the ranking (so the best, the worst
// and everything between stay represented), and the caption says how many were drawn. Axes of
// log-uniform domains are log-scaled; categorical ones place their choices evenly.
#include <algorithm>
#include <cmath>

#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace html {
namespace {

std::vector<size_t> with_result(const ExperimentView& v) {
  std::vector<size_t> out;
  for (size_t i : v.ranked)
    if (v.trials[i].final_budget >= 0 && std::isfinite(v.trials[i].final_value)) out.push_back(i);
  return out;
}

// A domain's axis range: its bounds, or the choice indices.
std::pair<double, double> domain_range(const Domain& d) {
  if (d.is_categorical()) return {-0.5, std::max<double>(0.5, d.values.size() - 0.5)};
  if (d.kind == DomainKind::LogUniform) return {d.low, d.high};
  if (d.low < d.high) return {d.low, d.high};
  return {d.low - 0.5, d.high + 0.5};
}

}  // namespace

Section parallel_coordinates_section(const ExperimentView& v, const HtmlReportOptions& options) {
  const std::string name = "parallel-coordinates", title = "Parallel coordinates";
  const std::vector<size_t> trials = with_result(v);
  if (v.domains.empty()) return missing_section(name, title, "no parallel coordinates: the experiment has no hyperparameters");
  if (trials.empty()) return missing_section(name, title, "no parallel coordinates: no trial has a final result yet");
  std::vector<double> metric;
  for (size_t i : trials) metric.push_back(v.trials[i].final_value);
  const auto [m_lo, m_hi] = data_range(metric, false);
  const size_t axes = v.domains.size() + 1;
  const double width = std::max(520.0, 110.0 * axes), height = 360, top = 40, bottom = height - 56, left = 60;
  const double gap = (width - 2 * left) / (axes - 1 == 0 ? 1 : axes - 1);
  const std::vector<size_t> pick = even_sample(trials.size(), static_cast<size_t>(std::max(1, options.max_lines)));
  SvgFigure svg(width, height, "parallel-coordinates",
                "data-trials=\"" + std::to_string(trials.size()) + "\" data-lines=\"" + std::to_string(pick.size()) +
                    "\" data-axes=\"" + std::to_string(axes) + "\"");
  svg.text(10, 18, display_name(*v.run) + ": hyperparameters of each trial, coloured by " + v.metric, "plot-title");
  std::vector<Scale> scales;
  for (size_t a = 0; a < axes; ++a) {
    const double x = left + gap * a;
    if (a < v.domains.size()) {
      const Domain& d = v.domains[a];
      const auto r = domain_range(d);
      scales.push_back(Scale{r.first, r.second, bottom, top, d.kind == DomainKind::LogUniform});
    } else {
      scales.push_back(Scale{m_lo, m_hi, bottom, top, false});
    }
    svg.line(x, top, x, bottom, "pc-axis", "stroke:#333333;stroke-width:1");
  }
  // Lines first (worst first, so the best lie on top), then the axes' labels over them.
  const bool good_high = v.maximize;
  for (size_t k = pick.size(); k-- > 0;) {
    const TrialView& t = v.trials[trials[pick[k]]];
    std::vector<std::pair<double, double>> pts;
    for (size_t a = 0; a < axes; ++a) {
      const double value = a < v.domains.size() ? domain_coordinate(v.domains[a], t.record->hparams) : t.final_value;
      if (!std::isfinite(value)) continue;
      pts.push_back({left + gap * a, scales[a](value)});
    }
    double goodness = (t.final_value - m_lo) / (m_hi - m_lo);
    if (!good_high) goodness = 1 - goodness;
    svg.polyline(pts, "pc-line", "fill:none;stroke:" + sequential_colour(goodness) + ";stroke-width:1;stroke-opacity:0.7",
                 "", "data-trial=\"" + std::to_string(t.record->id) + "\"");
  }
  for (size_t a = 0; a < axes; ++a) {
    const double x = left + gap * a;
    const std::string label = a < v.domains.size() ? v.domains[a].name : v.metric;
    svg.text(x, bottom + 20, label.size() > 16 ? label.substr(0, 15) + "\xe2\x80\xa6" : label, "axis-label", "middle");
    if (a < v.domains.size() && v.domains[a].is_categorical()) {
      for (size_t i = 0; i < v.domains[a].values.size() && i < 12; ++i)
        svg.text(x + 4, scales[a](static_cast<double>(i)) + 4, v.domains[a].values[i].to_string(), "tick-label");
    } else {
      const std::vector<double> ts = ticks(scales[a].lo, scales[a].hi, scales[a].log, 4);
      std::vector<double> at;
      for (double tick : ts) at.push_back(scales[a](tick));
      const std::vector<bool> shown = labelled_ticks(ts, at, std::vector<double>(ts.size(), 12.0), scales[a].log);
      for (size_t i = 0; i < ts.size(); ++i)
        if (shown[i]) svg.text(x + 4, at[i] + 4, short_number(ts[i]), "tick-label");
    }
    if (a < v.domains.size() && v.domains[a].kind == DomainKind::LogUniform)
      svg.text(x, bottom + 34, "(log)", "tick-label", "middle");
  }
  svg.text(left, height - 6, std::string("colour: ") + v.metric + ", yellow = best, purple = worst", "tick-label");
  Section s;
  s.name = name;
  s.title = title;
  Figure f;
  f.name = "parallel_coordinates";
  f.svg = svg.finish();
  f.caption = std::to_string(pick.size()) + " of " + std::to_string(trials.size()) +
              " trials with a final result drawn" +
              (pick.size() < trials.size() ? " (evenly spaced over the ranking)" : "") +
              "; the last axis is the final value of " + v.metric + ".";
  s.figures.push_back(f);
  return s;
}

Section scatter_section(const ExperimentView& v, const HtmlReportOptions& options) {
  const std::string name = "scatter", title = "Metric against each hyperparameter";
  const std::vector<size_t> trials = with_result(v);
  if (v.domains.empty()) return missing_section(name, title, "no scatter plots: the experiment has no hyperparameters");
  if (trials.empty()) return missing_section(name, title, "no scatter plots: no trial has a final result yet");
  const std::vector<size_t> pick = even_sample(trials.size(), static_cast<size_t>(std::max(1, options.max_scatter_points)));
  std::vector<double> metric;
  int64_t top_budget = 0;
  for (size_t i : trials) {
    metric.push_back(v.trials[i].final_value);
    top_budget = std::max(top_budget, v.trials[i].final_budget);
  }
  const auto y_range = data_range(metric, false);
  Section s;
  s.name = name;
  s.title = title;
  for (const Domain& d : v.domains) {
    const bool log = d.kind == DomainKind::LogUniform;
    Chart c("scatter", v.metric + " against " + d.name, d.name + (log ? " (log scale)" : d.is_categorical() ? " (choice)" : ""),
            metric_label(*v.run), domain_range(d), y_range, log, false,
            "data-hparam=\"" + xml_escape(d.name) + "\" data-points=\"" + std::to_string(pick.size()) + "\"", 380,
            260, 20);
    if (d.is_categorical()) {
      c.svg.open_group("axes");
      c.svg.rect(c.left, c.top, c.right - c.left, c.bottom - c.top, "frame", "");
      for (size_t i = 0; i < d.values.size() && i < 12; ++i)
        c.svg.text(c.x(static_cast<double>(i)), c.bottom + 18, d.values[i].to_string(), "tick-label", "middle");
      for (double t : ticks(y_range.first, y_range.second, false, 5)) {
        c.svg.line(c.left, c.y(t), c.right, c.y(t), "grid", "");
        c.svg.text(c.left - 8, c.y(t) + 4, short_number(t), "tick-label", "end");
      }
      c.svg.text((c.left + c.right) / 2, c.svg.height() - 10, d.name + " (choice)", "axis-label x-label", "middle");
      c.svg.text(16, (c.top + c.bottom) / 2, metric_label(*v.run), "axis-label y-label", "middle", -90);
      c.svg.text(c.left, 18, v.metric + " against " + d.name, "plot-title");
      c.svg.close_group();
    } else {
      c.axes();
    }
    for (size_t k : pick) {
      const TrialView& t = v.trials[trials[k]];
      const double x = domain_coordinate(d, t.record->hparams);
      if (!std::isfinite(x)) continue;
      const bool full = t.final_budget == top_budget;
      c.svg.circle(c.x(x), c.y(t.final_value), full ? 2.8 : 2, full ? "point full" : "point lower",
                   full ? "fill:#0072B2;fill-opacity:0.8" : "fill:#E69F00;fill-opacity:0.45");
    }
    Figure f;
    f.name = "scatter_" + d.name;
    f.svg = c.svg.finish();
    f.caption = "Final " + v.metric + " of " + std::to_string(pick.size()) + " of " + std::to_string(trials.size()) +
                " trials against " + d.name + " (" + d.describe() + "); blue: at the largest budget reached (" +
                std::to_string(top_budget) + " steps), orange: ended at a lower budget.";
    s.figures.push_back(f);
  }
  return s;
}

}  // namespace html
}  // namespace mpitune
