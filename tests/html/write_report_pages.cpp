// Writes the HTML reports of the four simulated experiments (ASHA, Hyperband, BOHB, PBT) for
// the headless-browser check: <dir>/<kind>.html, and <dir>/<kind>.expect with what the page
// must show, computed from the experiment's data rather than from the page: the trials with a
// metric value (one learning curve each per curve plot), the transfers (one lineage line
// each), the space's dimensions (one scatter plot each).
//
// Usage: write_report_pages DIR
#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/report/html_report.hpp"
#include "mpitune/report/run_cost.hpp"
#include "../unit/report_html/simulated_experiments.hpp"

int main(int argc, char** argv) {
  using namespace mpitune;
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_report_pages DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  try {
    make_dirs(dir);
    for (const std::string kind : {"asha", "hyperband", "bohb", "pbt"}) {
      const ExperimentData run = testing::simulated_experiment(kind);
      HtmlReportOptions options;
      options.title = "mpitune report: simulated " + kind;
      const std::string page = format_html_report({run}, {}, options);
      write_file_atomic(dir + "/" + kind + ".html", page.data(), page.size());
      std::set<TrialId> with_values;
      for (const auto& m : run.metrics)
        if (std::isfinite(metric_value(m, run.info.metric))) with_values.insert(m.trial);
      const std::string expect = "trials=" + std::to_string(run.trials.size()) +
                                 "\ncurves=" + std::to_string(with_values.size()) +
                                 "\ntransfers=" + std::to_string(run.transfers.size()) +
                                 "\ndimensions=" + std::to_string(run.info.space.size()) + "\n";
      write_file_atomic(dir + "/" + kind + ".expect", expect.data(), expect.size());
      std::printf("%s: %zu trials, %zu bytes\n", kind.c_str(), run.trials.size(), page.size());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_report_pages: %s\n", e.what());
    return 1;
  }
  return 0;
}
