// The sections across experiments: the cost table, the best-so-far curves against
// device-minutes, and the paired test-loss comparisons against the reference (see
// sections.hpp). The figures are the text report's (report_rows.hpp, run_cost.hpp,
// test_comparison.hpp), laid out as HTML.
#include <algorithm>
#include <cmath>

#include "../report_cells.hpp"
#include "../report_sections.hpp"
#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace html {
namespace {

using report_cells::num;
using report_cells::or_dash;

std::string cell(double x, const char* format) { return or_dash(num(x, format)); }

}  // namespace

Section cost_table_section(const ReportRows& rows) {
  Section s;
  s.name = "cost-table";
  s.title = "Cost to the best result";
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : rows.rows) {
    const RunCost& c = row.cost;
    std::string best = cell(c.best, "%.5g");
    if (!std::isnan(c.best) && !c.best_at_full_budget) best += " (" + std::to_string(c.best_budget) + " steps)";
    const bool target = rows.have_reference && !std::isnan(rows.reference_best);
    cells.push_back({xml_escape(c.name) + (row.is_reference ? " <em>(reference)</em>" : ""), xml_escape(row.file),
                     xml_escape(c.method), xml_escape(c.metric + " (" + c.mode + ")"), best, cell(c.best_any, "%.5g"),
                     report_cells::test_loss_cell(c), cell(c.time_to_best_s, "%.1f"), std::to_string(c.devices),
                     cell(c.device_minutes_to_best, "%.2f"), cell(c.device_minutes_total, "%.2f"),
                     rows.have_reference ? cell(row.ratio, "%.2f") : "",
                     !target ? "" : row.reach.reached ? cell(row.reach.device_minutes, "%.2f") : "not reached"});
  }
  s.html = html_table("cost", {"experiment", "file", "method", "metric", "best at full budget", "best at any step",
                               "test loss (95% CI)", "time to best (s)", "devices", "device-min to best",
                               "device-min total", "cost vs reference", "device-min to reference best"},
                      cells, {false, false, false, false, true, true, true, true, true, true, true, true, true});
  // The definitions, as the text report gives them (one list item per "- " line).
  std::string defs = report_sections::column_definitions(false), items;
  size_t pos = 0;
  while (pos < defs.size()) {
    size_t end = defs.find('\n', pos);
    if (end == std::string::npos) end = defs.size();
    const std::string line = defs.substr(pos, end - pos);
    if (line.rfind("- ", 0) == 0) items += "<li>" + xml_escape(line.substr(2)) + "</li>";
    pos = end + 1;
  }
  s.html += "<details><summary>What the columns mean</summary><ul>" + items + "</ul></details>\n";
  return s;
}

Section best_so_far_section(const std::vector<ExperimentView>& views, const ReportRows& rows) {
  Section s;
  s.name = "best-so-far";
  s.title = "Best so far against device-minutes";
  struct Curve {
    std::string name;
    std::vector<std::pair<double, double>> points;  // (device-minutes, best so far)
  };
  std::vector<Curve> curves;
  std::vector<double> xs, ys;
  bool any_maximize = false, any_minimize = false;
  for (const auto& v : views) {
    std::vector<const SeriesPoint*> all;
    all.reserve(v.metric_rows);
    for (const auto& t : v.trials)
      for (const auto& p : t.series) all.push_back(&p);
    std::sort(all.begin(), all.end(), [](const SeriesPoint* a, const SeriesPoint* b) { return a->time < b->time; });
    Curve c;
    c.name = display_name(*v.run);
    double best = kNaN;
    for (const SeriesPoint* p : all)
      if (better(v, p->value, best)) {
        if (!c.points.empty()) c.points.push_back({p->device_minutes, best});  // the step's riser
        best = p->value;
        c.points.push_back({p->device_minutes, best});
      }
    if (c.points.empty()) continue;
    const double end = v.run->summary.device_seconds > 0 || !all.empty() ? all.back()->device_minutes : 0;
    c.points.push_back({std::max(end, c.points.back().first), best});
    for (const auto& [x, y] : c.points) {
      xs.push_back(x);
      ys.push_back(y);
    }
    (v.maximize ? any_maximize : any_minimize) = true;
    curves.push_back(std::move(c));
  }
  if (curves.empty()) return missing_section(s.name, s.title, "no best-so-far curve: no experiment has a metric value yet");
  const bool reference_line = rows.have_reference && std::isfinite(rows.reference_best);
  if (reference_line) ys.push_back(rows.reference_best);
  auto x_range = data_range(xs, false);
  x_range.first = std::max(0.0, x_range.first);
  const std::string y_label = views.front().metric + (any_maximize && any_minimize ? "" : any_maximize ? " (higher is better)"
                                                                                                    : " (lower is better)");
  Chart c("best-so-far", "Best value so far of each experiment", "device-minutes (min)", y_label, x_range,
          data_range(ys, false), false, false, "data-experiments=\"" + std::to_string(curves.size()) + "\"");
  c.axes();
  if (reference_line) {
    c.svg.line(c.left, c.y(rows.reference_best), c.right, c.y(rows.reference_best), "reference-best",
               "stroke:#000000;stroke-width:1.5;stroke-dasharray:6 4", "reference best " + short_number(rows.reference_best, 5));
    c.legend("reference best", "#000000", true, 1.5);
  }
  for (size_t i = 0; i < curves.size(); ++i) {
    std::vector<std::pair<double, double>> px;
    for (const auto& [x, y] : curves[i].points) px.push_back({c.x(x), c.y(y)});
    const std::string colour = categorical_colour(i + 4);  // blue, vermillion, purple, orange, ...
    c.svg.polyline(px, "best-so-far-curve", "fill:none;stroke:" + colour + ";stroke-width:2.2", curves[i].name);
    c.legend(curves[i].name, colour, false, 2.2);
  }
  Figure f;
  f.name = "best_so_far";
  f.svg = c.svg.finish();
  f.caption = "The best value of the metric reported so far (any trial, any step) against the device-minutes each "
              "experiment had used, one line per experiment" +
              std::string(reference_line ? "; dashed: the reference's best at full budget." : ".");
  s.figures.push_back(f);
  return s;
}

Section significance_section(const ReportRows& rows, const HtmlReportOptions& options) {
  const std::string name = "test-comparison", title = "Test loss against the reference";
  const ReportRow* reference = nullptr;
  for (const auto& row : rows.rows)
    if (row.is_reference) reference = &row;
  if (!reference) return missing_section(name, title, "no comparison: no --reference experiment was given");
  if (options.bootstrap_resamples <= 0) return missing_section(name, title, "no comparison: bootstrap resamples set to 0");
  Section s;
  s.name = name;
  s.title = title;
  s.html = "<p>" + xml_escape(report_sections::significance_intro(options.bootstrap_resamples, options.bootstrap_seed)) +
           "</p><ul>";
  int compared = 0;
  for (const auto& row : rows.rows) {
    if (row.is_reference) continue;
    const TestComparison t =
        compare_test_losses(*row.run, *reference->run, options.bootstrap_resamples, options.bootstrap_seed);
    s.html += "<li>" + xml_escape(row.cost.name + " (" + row.file + "): " + report_sections::comparison_text(t)) + "</li>";
    ++compared;
  }
  s.html += "</ul>\n";
  if (compared == 0) s.html = missing_line("no comparison: the reference is the only experiment");
  return s;
}

}  // namespace html
}  // namespace mpitune
