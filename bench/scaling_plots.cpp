// The scaling study's figures (scaling_plots.hpp).
#include "scaling_plots.hpp"

#include <algorithm>
#include <functional>

#include "../src/report/html/svg.hpp"

namespace mpitune {
namespace scaling {
namespace {

// The classes svg.hpp's charts use, styled as the HTML report's --plots files are.
const char* kStyle =
    ".frame{fill:none;stroke:#555555;stroke-width:1}.grid{stroke:#e4e4e4;stroke-width:1}.tick{stroke:#555555}"
    ".tick-label{font:11px \"DejaVu Sans\",Helvetica,Arial,sans-serif;fill:#333333}"
    ".axis-label{font:12px \"DejaVu Sans\",Helvetica,Arial,sans-serif;fill:#111111}"
    ".plot-title{font:bold 13px \"DejaVu Sans\",Helvetica,Arial,sans-serif;fill:#111111}"
    ".legend-label{font:11px \"DejaVu Sans\",Helvetica,Arial,sans-serif;fill:#222222}";

struct Series {
  std::string scheduler;
  std::vector<std::pair<double, double>> points;  // (groups, value)
};

std::vector<Series> series_of(const std::vector<PointResult>& points, const std::function<double(const PointResult&)>& value) {
  std::vector<Series> out;
  for (const std::string& name : study_schedulers()) {
    Series s{name, {}};
    for (const PointResult& p : points)
      if (p.error.empty() && p.spec.scheduler == name) s.points.push_back({double(p.spec.groups), value(p)});
    if (!s.points.empty()) out.push_back(s);
  }
  return out;
}

PlotFile chart(const std::string& file, const std::string& title, const std::string& y_label, bool y_log,
               const std::vector<Series>& series, std::pair<double, double> y_range_hint) {
  std::vector<double> xs, ys;
  for (const Series& s : series)
    for (const auto& [x, y] : s.points) {
      xs.push_back(x);
      ys.push_back(y);
    }
  std::pair<double, double> y_range = html::data_range(ys, y_log);
  if (y_range_hint.first < y_range_hint.second) {  // a fixed range unless the data leaves it
    y_range.first = std::min(y_range.first, y_range_hint.first);
    y_range.second = std::max(y_range.second, y_range_hint.second);
  }
  html::Chart c("scaling-" + file, title, "simulated groups (log scale)", y_label, html::data_range(xs, true), y_range,
                true, y_log);
  c.axes();
  for (size_t i = 0; i < series.size(); ++i) {
    const std::string colour = html::categorical_colour(i);
    const bool dashed = series[i].scheduler == "fifo-fixed";
    std::vector<std::pair<double, double>> px;
    for (const auto& [x, y] : series[i].points) px.push_back({c.x(x), c.y(y)});
    c.svg.polyline(px, "series", "fill:none;stroke:" + colour + ";stroke-width:2" + (dashed ? ";stroke-dasharray:5 3" : ""),
                   series[i].scheduler);
    for (const auto& [x, y] : px) c.svg.circle(x, y, 3, "point", "fill:" + colour, series[i].scheduler);
    c.legend(series[i].scheduler, colour, dashed);
  }
  std::string svg = c.svg.finish();
  svg.insert(svg.find('>') + 1, std::string("<style>") + kStyle + "</style>");
  return {file + ".svg", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg + "\n"};
}

}  // namespace

std::vector<PlotFile> sweep_plots(const std::vector<PointResult>& points) {
  std::vector<PlotFile> out;
  out.push_back(chart("utilisation", "Utilisation of the groups in the simulator", "busy / (groups x elapsed)", false,
                      series_of(points, [](const PointResult& p) { return p.utilisation; }), {0, 1}));
  out.push_back(chart("overhead", "Elapsed time over the ideal time in the simulator", "overhead (%)", false,
                      series_of(points, [](const PointResult& p) { return 100 * p.overhead; }), {0, 0}));
  out.push_back(chart("decisions_per_s", "Coordinator decisions per second of simulator wall time",
                      "decisions / s (log scale)", true,
                      series_of(points, [](const PointResult& p) { return p.wall_s > 0 ? p.decisions / p.wall_s : 0; }),
                      {0, 0}));
  return out;
}

}  // namespace scaling
}  // namespace mpitune
