// The HTML report: `mpitune report FILE... --html report.html [--plots DIR]`.
//
// One self-contained page (inline SVG and CSS, no JavaScript, nothing fetched from the network)
// that opens from a laptop after scp. Across the experiments: the cost table, the best-so-far
// curve of every experiment against device-minutes with the reference's best as a line, and the
// test losses against the reference. Per experiment: learning curves against steps and against
// device-minutes, the rung diagram (ASHA, Hyperband, BOHB), the PBT lineage and the best trial's
// hyperparameter schedule, parallel coordinates, metric-vs-hyperparameter scatter plots,
// hyperparameter importance, the best configurations, the /final test losses with intervals,
// forgetting, the failures and the per-group timeline. A section a file cannot fill says why
// in one line (no /final table, no transfers, ...) rather than vanishing, so files of older
// schema versions render too.
//
// The figures come from the same computations as the text report (run_cost.hpp,
// report_rows.hpp, test_comparison.hpp, schedule_report.hpp). Large experiments are thinned,
// never drawn as a hairball: at most `max_full_curves` learning curves in full (the best ones by
// the rule of best_trial.hpp), the others as a 10%-90% quantile band with their median; at most
// `max_points_per_curve` points per curve; parallel coordinates and scatter plots draw an evenly
// spaced sample over the metric's ranking; timeline bars closer than a pixel merge. Each figure
// says in its caption what it leaves out.
//
// Structure the tests (and scripts) rely on: every section is a <section data-section="NAME">
// inside <section class="experiment" data-experiment="I"> (or the comparison section); every
// figure an <svg class="plot" data-plot="KIND">; a drawn learning curve is a <polyline
// class="curve ..." data-trial="ID">, a PBT transfer a <line class="transfer">, a timeline bar a
// <rect class="bar">.
//
// Pure C++ over ExperimentData (no HDF5), in mpitune_core.
#pragma once

#include <string>
#include <vector>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct HtmlReportOptions {
  std::string title = "mpitune report";
  int max_full_curves = 100;       // learning curves drawn in full per figure; the rest as a band
  int max_points_per_curve = 150;  // points per drawn curve (evenly thinned, first and last kept)
  int max_lines = 300;             // parallel-coordinates lines
  int max_scatter_points = 1500;   // points per scatter plot
  int max_table_rows = 50;         // rows of the failures and best-configuration tables
  int bootstrap_resamples = 2000;  // paired test-loss comparisons against the reference; 0: none
  uint64_t bootstrap_seed = 9;
};

// The whole page. `references`: none or one (the experiment whose best is the horizontal line
// and the denominator of the cost ratios); those not among `runs` are shown too. Throws
// ConfigError("--reference") for more than one, as the text report does.
std::string format_html_report(const std::vector<ExperimentData>& runs,
                               const std::vector<const ExperimentData*>& references,
                               const HtmlReportOptions& options);

// One figure of the page as a standalone SVG file (with its own style sheet).
struct HtmlPlotFile {
  std::string name;  // "e1_learning_curves_step.svg", ...
  std::string svg;
};
std::vector<HtmlPlotFile> html_plot_files(const std::vector<ExperimentData>& runs,
                                          const std::vector<const ExperimentData*>& references,
                                          const HtmlReportOptions& options);

// Writes html_plot_files into `dir` (created when missing); InfraError when it cannot.
void write_plot_files(const std::vector<ExperimentData>& runs, const std::vector<const ExperimentData*>& references,
                      const HtmlReportOptions& options, const std::string& dir);

}  // namespace mpitune
