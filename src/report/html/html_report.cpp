// The HTML report page and the --plots files (see html_report.hpp): the sections of
// sections.hpp laid out as one self-contained page.
#include "mpitune/report/html_report.hpp"

#include <cctype>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace {

using html::Section;

// The page's style sheet; the figures' classes are styled here so the SVG text stays small.
const char* kPageStyle = R"(body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;color:#1a1a1a;line-height:1.4;padding:0 16px}
h1{font-size:26px}h2{font-size:21px;border-bottom:2px solid #0072B2;padding-bottom:4px;margin-top:40px}h3{font-size:16px;margin:22px 0 8px}
nav ul{columns:3;font-size:14px}table{border-collapse:collapse;font-size:13px;margin:8px 0;display:block;overflow-x:auto}
th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;vertical-align:top}th{background:#f1f4f8}td.num,th.num{text-align:right}
figure{margin:10px 0 18px;display:inline-block;vertical-align:top;max-width:100%}figcaption{font-size:12px;color:#444;max-width:760px}
p.missing{color:#7a4b00;background:#fff6e5;border-left:4px solid #E69F00;padding:4px 10px;font-size:14px}p.method{font-size:13px}
svg.plot{max-width:100%;height:auto;background:#ffffff}
)";
// The figures' own styles (also written into each --plots file).
const char* kSvgStyle = R"(.frame{fill:none;stroke:#555555;stroke-width:1}.grid{stroke:#e4e4e4;stroke-width:1}.tick{stroke:#555555}
.tick-label{font:11px "DejaVu Sans",Helvetica,Arial,sans-serif;fill:#333333}.axis-label{font:12px "DejaVu Sans",Helvetica,Arial,sans-serif;fill:#111111}
.plot-title{font:bold 13px "DejaVu Sans",Helvetica,Arial,sans-serif;fill:#111111}.legend-label,.lane-label,.count-label,.promotion-label{font:11px "DejaVu Sans",Helvetica,Arial,sans-serif;fill:#222222}
)";

std::string experiment_anchor(size_t i) { return "experiment-" + std::to_string(i + 1); }

struct Built {
  std::vector<Section> comparison;
  struct Experiment {
    std::string heading, facts;
    size_t trials = 0;
    std::vector<Section> sections;
  };
  std::vector<Experiment> experiments;
};

std::string experiment_facts(const ExperimentData& run);

Built build(const std::vector<ExperimentData>& runs, const std::vector<const ExperimentData*>& references,
            const HtmlReportOptions& options) {
  if (references.size() > 1)
    throw ConfigError("--reference", std::to_string(references.size()) + " reference files given",
                      "give one reference with --html (the HTML report does not aggregate repeated runs)");
  const ReportRows rows = make_report_rows(runs, references);
  std::vector<html::ExperimentView> views;
  views.reserve(rows.rows.size());
  for (const auto& row : rows.rows) views.push_back(html::make_experiment_view(*row.run));
  Built b;
  b.comparison.push_back(html::cost_table_section(rows));
  b.comparison.push_back(html::best_so_far_section(views, rows));
  b.comparison.push_back(html::significance_section(rows, options));
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    const html::ExperimentView& v = views[i];
    std::vector<Section> s;
    s.push_back(html::learning_curves_section(v, options));
    s.push_back(html::rung_section(v));
    s.push_back(html::pbt_section(v));
    s.push_back(html::parallel_coordinates_section(v, options));
    s.push_back(html::scatter_section(v, options));
    s.push_back(html::importance_section(v));
    s.push_back(html::best_configurations_section(v, rows.rows[i].cost, options));
    s.push_back(html::final_section(v, rows.rows[i].cost));
    s.push_back(html::failures_section(v, options));
    s.push_back(html::timeline_section(v));
    const std::string heading = html::display_name(*v.run) + " (" + rows.rows[i].file + ")" +
                                (rows.rows[i].is_reference ? ", the reference" : "");
    b.experiments.push_back({heading, experiment_facts(*v.run), v.run->trials.size(), std::move(s)});
  }
  return b;
}

std::string experiment_facts(const ExperimentData& run) {
  const ExperimentInfo& i = run.info;
  std::string s = "method " + (i.scheduler.empty() ? "?" : i.scheduler) + "+" + (i.searcher.empty() ? "?" : i.searcher) +
                  ", metric " + i.metric + " (" + i.mode + "), " + std::to_string(run.trials.size()) + " trials, " +
                  std::to_string(run.metrics.size()) + " metric rows, " + std::to_string(i.num_groups) +
                  " groups of " + std::to_string(i.group_size) + (i.device_kind.empty() ? "" : " on " + i.device_kind) +
                  ", status " + run.summary.status + ", schema " + std::to_string(i.schema_version);
  if (i.schema_version < kSchemaVersion)
    s += " (older than this build's " + std::to_string(kSchemaVersion) + ": sections it lacks say so)";
  return s;
}

}  // namespace

std::string format_html_report(const std::vector<ExperimentData>& runs,
                               const std::vector<const ExperimentData*>& references,
                               const HtmlReportOptions& options) {
  const Built b = build(runs, references, options);
  std::string out;
  out.reserve(1 << 20);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" "
         "content=\"width=device-width, initial-scale=1\">\n<title>" +
         html::xml_escape(options.title) + "</title>\n<style>\n" + kPageStyle + kSvgStyle + "</style></head><body>\n";
  out += "<h1>" + html::xml_escape(options.title) + "</h1>\n<nav><ul><li><a href=\"#comparison\">Across experiments</a></li>";
  for (size_t i = 0; i < b.experiments.size(); ++i)
    out += "<li><a href=\"#" + experiment_anchor(i) + "\">" + html::xml_escape(b.experiments[i].heading) + "</a></li>";
  out += "</ul></nav>\n";
  out += "<section class=\"comparison\" id=\"comparison\"><h2>Across experiments</h2>\n";
  for (const auto& s : b.comparison) out += html::render_section(s);
  out += "</section>\n";
  for (size_t i = 0; i < b.experiments.size(); ++i) {
    out += "<section class=\"experiment\" id=\"" + experiment_anchor(i) + "\" data-experiment=\"" + std::to_string(i + 1) +
           "\" data-trials=\"" + std::to_string(b.experiments[i].trials) + "\"><h2>" +
           html::xml_escape(b.experiments[i].heading) + "</h2>\n<p>" + html::xml_escape(b.experiments[i].facts) +
           "</p>\n";
    for (const auto& s : b.experiments[i].sections) out += html::render_section(s);
    out += "</section>\n";
  }
  out += "<footer><p>Written by mpitune " MPITUNE_VERSION ". Colours: Okabe &amp; Ito's colour-blind-safe palette; "
         "sequential scales viridis.</p></footer>\n</body></html>\n";
  return out;
}

std::vector<HtmlPlotFile> html_plot_files(const std::vector<ExperimentData>& runs,
                                          const std::vector<const ExperimentData*>& references,
                                          const HtmlReportOptions& options) {
  const Built b = build(runs, references, options);
  std::vector<HtmlPlotFile> out;
  auto add = [&](const std::string& prefix, const Section& s) {
    for (const auto& f : s.figures) {
      // A standalone file needs its own style sheet: insert it after the opening tag.
      std::string svg = f.svg;
      const size_t open_end = svg.find('>');
      svg.insert(open_end + 1, std::string("<style>") + kSvgStyle + "</style>");
      std::string name = prefix + f.name;
      for (char& c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) c = '_';
      out.push_back({name + ".svg", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg + "\n"});
    }
  };
  for (const auto& s : b.comparison) add("all_", s);
  for (size_t i = 0; i < b.experiments.size(); ++i)
    for (const auto& s : b.experiments[i].sections) add("e" + std::to_string(i + 1) + "_", s);
  return out;
}

void write_plot_files(const std::vector<ExperimentData>& runs, const std::vector<const ExperimentData*>& references,
                      const HtmlReportOptions& options, const std::string& dir) {
  make_dirs(dir);
  for (const auto& f : html_plot_files(runs, references, options))
    write_file_atomic(dir + "/" + f.name, f.svg.data(), f.svg.size());
}

}  // namespace mpitune
