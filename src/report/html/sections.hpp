// The pieces the HTML page is assembled from, and the builders of each section. Private to
// src/report/html.
//
// A Section is one <section data-section="NAME"> with its heading, its HTML and its figures (an
// SVG each, kept apart too for `--plots DIR`). A builder that has nothing to draw returns a
// section holding one line that says why ("no /final table: ..."), so the page has every
// section for every file and a reader knows what is missing and why.
#pragma once

#include <string>
#include <vector>

#include "experiment_view.hpp"
#include "mpitune/report/html_report.hpp"
#include "mpitune/report/report_rows.hpp"

namespace mpitune {
namespace html {

struct Figure {
  std::string name;  // file stem for --plots ("learning_curves_step")
  std::string svg;
  std::string caption;
};

struct Section {
  std::string name;   // data-section
  std::string title;  // heading
  std::string html;   // paragraphs and tables, before the figures
  std::vector<Figure> figures;
};

// A section with one line on why it is empty.
Section missing_section(const std::string& name, const std::string& title, const std::string& why);
// <p class="missing">why</p>
std::string missing_line(const std::string& why);
// The section as HTML (heading, body, figures with captions).
std::string render_section(const Section& s);

// A table: header cells and rows of already-escaped cell HTML; `numeric` columns right-aligned.
std::string html_table(const std::string& cls, const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& numeric = {});

// Across experiments (comparison.cpp).
Section cost_table_section(const ReportRows& rows);
Section best_so_far_section(const std::vector<ExperimentView>& views, const ReportRows& rows);
Section significance_section(const ReportRows& rows, const HtmlReportOptions& options);

// Per experiment.
Section learning_curves_section(const ExperimentView& v, const HtmlReportOptions& options);  // curves.cpp
Section rung_section(const ExperimentView& v);                                               // rungs.cpp
Section pbt_section(const ExperimentView& v);                                                // pbt_plots.cpp
Section parallel_coordinates_section(const ExperimentView& v, const HtmlReportOptions& options);  // hparam_plots.cpp
Section scatter_section(const ExperimentView& v, const HtmlReportOptions& options);
Section importance_section(const ExperimentView& v);                                         // importance.cpp
Section best_configurations_section(const ExperimentView& v, const RunCost& cost,
                                    const HtmlReportOptions& options);                       // tables.cpp
Section final_section(const ExperimentView& v, const RunCost& cost);
Section failures_section(const ExperimentView& v, const HtmlReportOptions& options);
Section timeline_section(const ExperimentView& v);                                           // timeline.cpp

// Evenly spaced picks of `count` out of `n` (all when count >= n), first and last included.
std::vector<size_t> even_sample(size_t n, size_t count);

}  // namespace html
}  // namespace mpitune
