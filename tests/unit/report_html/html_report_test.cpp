// The HTML report of simulated ASHA, Hyperband, BOHB and PBT experiments: every section is
// there, a learning curve per trial (or the documented band), the rung diagram matches the
// rung counts, the lineage has a line per transfer, the timeline covers every trial, names are
// escaped, and --plots writes a standalone SVG per figure.
#include <gtest/gtest.h>

#include <cmath>
#include <dirent.h>
#include <map>
#include <set>

#include "mpitune/report/html_report.hpp"
#include "mpitune/report/run_cost.hpp"
#include "mpitune/report/schedule_report.hpp"
#include "simulated_experiments.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

const std::vector<std::string> kExperimentSections = {"learning-curves", "rungs", "pbt", "parallel-coordinates",
                                                      "scatter", "importance", "best-configurations", "final",
                                                      "failures", "timeline"};

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
  return n;
}

// The nth <svg> of the given data-plot kind, whole.
std::string svg_of(const std::string& page, const std::string& kind, size_t nth = 0) {
  size_t p = 0;
  for (size_t i = 0; i <= nth; ++i) {
    p = page.find("data-plot=\"" + kind + "\"", i == 0 ? 0 : p + 1);
    if (p == std::string::npos) return "";
  }
  const size_t start = page.rfind("<svg", p);
  return page.substr(start, page.find("</svg>", p) + 6 - start);
}

size_t trials_with_values(const ExperimentData& run) {
  std::set<TrialId> ids;
  for (const auto& m : run.metrics)
    if (std::isfinite(metric_value(m, run.info.metric))) ids.insert(m.trial);
  return ids.size();
}

const ExperimentData& simulated(const std::string& kind) {
  static std::map<std::string, ExperimentData> cache;
  auto it = cache.find(kind);
  if (it == cache.end()) it = cache.emplace(kind, testing::simulated_experiment(kind)).first;
  return it->second;
}

std::string page_of(const ExperimentData& run, const HtmlReportOptions& options = {}) {
  return format_html_report({run}, {}, options);
}

class EverySimulatedScheduler : public ::testing::TestWithParam<std::string> {};

TEST_P(EverySimulatedScheduler, HasEverySectionAndACurvePerTrial) {
  const ExperimentData& run = simulated(GetParam());
  ASSERT_GT(run.trials.size(), 3u);
  const std::string page = page_of(run);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(page, "<script"), 0u);
  EXPECT_EQ(count(page, "http://") - count(page, "http://www.w3.org/2000/svg"), 0u) << "nothing fetched";
  for (const char* s : {"cost-table", "best-so-far", "test-comparison"})
    EXPECT_EQ(count(page, std::string("data-section=\"") + s + "\""), 1u) << s;
  for (const auto& s : kExperimentSections) EXPECT_EQ(count(page, "data-section=\"" + s + "\""), 1u) << s;

  const size_t expected = trials_with_values(run);
  for (const char* kind : {"learning-curves-step", "learning-curves-device-minutes"}) {
    const std::string svg = svg_of(page, kind);
    ASSERT_FALSE(svg.empty()) << kind;
    EXPECT_EQ(count(svg, "<polyline class=\"curve "), expected) << kind;
    EXPECT_EQ(count(svg, "class=\"curve best\""), 1u) << kind;
    EXPECT_EQ(count(svg, "class=\"band\""), 0u) << kind;
    EXPECT_NE(svg.find(">eval loss</text>"), std::string::npos) << kind;
  }
  EXPECT_NE(svg_of(page, "learning-curves-step").find("training step"), std::string::npos);
  EXPECT_NE(svg_of(page, "learning-curves-device-minutes").find("device-minutes"), std::string::npos);
  EXPECT_NE(svg_of(page, "best-so-far").find("device-minutes (min)"), std::string::npos);
  // A scatter plot per dimension of the space.
  EXPECT_EQ(count(page, "data-plot=\"scatter\""), run.info.space.size());
  EXPECT_NE(page.find("data-axes=\"" + std::to_string(run.info.space.size() + 1) + "\""), std::string::npos);
  // The timeline shows every trial that ran on some group.
  const std::string timeline = svg_of(page, "timeline");
  for (const auto& t : run.trials)
    EXPECT_NE(timeline.find("data-trial=\"" + std::to_string(t.id) + "\""), std::string::npos) << t.id;
  EXPECT_NE(page.find("% of "), std::string::npos) << "utilisation";
}

INSTANTIATE_TEST_SUITE_P(Schedulers, EverySimulatedScheduler, ::testing::Values("asha", "hyperband", "bohb", "pbt"));

TEST(HtmlReport, SuccessiveHalvingRungsMatchTheBudgetCounts) {
  for (const char* kind : {"asha", "hyperband", "bohb"}) {
    const ExperimentData& run = simulated(kind);
    const std::string svg = svg_of(page_of(run), "rungs");
    const auto counts = budget_counts(run);
    ASSERT_FALSE(counts.empty()) << kind;
    EXPECT_EQ(count(svg, "class=\"rung\""), counts.size()) << kind;
    for (const auto& c : counts)
      EXPECT_NE(svg.find("data-trials=\"" + std::to_string(c.trials) + "\""), std::string::npos) << kind;
    EXPECT_GT(count(svg, "class=\"promotion\""), 0u) << kind;
    EXPECT_NE(svg.find("budget (training steps)"), std::string::npos);
  }
}

TEST(HtmlReport, PbtLineageHasALinePerTransferAndASchedulePerHyperparameter) {
  const ExperimentData& run = simulated("pbt");
  ASSERT_FALSE(run.transfers.empty());
  const std::string page = page_of(run);
  EXPECT_EQ(count(svg_of(page, "pbt-lineage"), "class=\"transfer\""), run.transfers.size());
  EXPECT_EQ(count(page, "data-plot=\"pbt-schedule\""), 2u);  // lr and wd
  EXPECT_NE(page.find("data-hparam=\"lr\""), std::string::npos);
  EXPECT_NE(page.find("no rung diagram"), std::string::npos);
}

TEST(HtmlReport, SchedulersWithoutClonesSayWhyThereIsNoLineage) {
  const std::string page = page_of(simulated("asha"));
  EXPECT_NE(page.find("no lineage: no /pbt_transfers rows (the asha scheduler does not clone trials)"), std::string::npos);
  EXPECT_NE(page.find("no /final table"), std::string::npos);
}

TEST(HtmlReport, FailuresAreListedWithTheirReasons) {
  const ExperimentData& run = simulated("asha");
  int failed = 0;
  for (const auto& t : run.trials) failed += t.status == TrialStatus::Failed;
  ASSERT_EQ(failed, 2);
  const std::string page = page_of(run);
  const size_t start = page.find("data-section=\"failures\"");
  const std::string section = page.substr(start, page.find("</section>", start) - start);
  EXPECT_EQ(count(section, "<tr><td class=\"num\">"), 2u);
  for (const auto& t : run.trials)
    if (t.status == TrialStatus::Failed) {
      ASSERT_FALSE(t.reason.empty());
      EXPECT_NE(section.find(">" + std::to_string(t.id) + "</td>"), std::string::npos);
    }
}

TEST(HtmlReport, ManyTrialsBecomeABandBeyondTheCurveLimit) {
  const ExperimentData& run = simulated("hyperband");
  HtmlReportOptions options;
  options.max_full_curves = 5;
  options.max_points_per_curve = 3;
  options.max_lines = 7;
  options.max_scatter_points = 9;
  const std::string page = page_of(run, options);
  const std::string svg = svg_of(page, "learning-curves-step");
  const size_t n = trials_with_values(run);
  ASSERT_GT(n, 5u);
  EXPECT_EQ(count(svg, "<polyline class=\"curve "), 5u);
  EXPECT_NE(svg.find("<g class=\"band\" data-trials=\"" + std::to_string(n - 5) + "\""), std::string::npos);
  // Each drawn curve has at most 3 points ("x,y" pairs).
  for (size_t p = svg.find("<polyline class=\"curve "); p != std::string::npos;
       p = svg.find("<polyline class=\"curve ", p + 1)) {
    const size_t a = svg.find("points=\"", p) + 8;
    EXPECT_LE(count(svg.substr(a, svg.find('"', a) - a), ","), 3u);
  }
  EXPECT_EQ(count(svg_of(page, "parallel-coordinates"), "class=\"pc-line\""), 7u);
  EXPECT_EQ(count(svg_of(page, "scatter"), "<circle class=\"point"), 9u);
}

TEST(HtmlReport, GeometricBudgetsUseALogStepAxis) {
  EXPECT_NE(svg_of(page_of(simulated("asha")), "learning-curves-step").find("training step (log scale)"),
            std::string::npos);
  EXPECT_EQ(svg_of(page_of(simulated("pbt")), "learning-curves-step").find("(log scale)"), std::string::npos);
  // lr is log-uniform: its scatter plot's x axis says so.
  EXPECT_NE(page_of(simulated("pbt")).find("lr (log scale)"), std::string::npos);
}

TEST(HtmlReport, ComparesExperimentsOnOneBestSoFarPlotWithTheReferenceLine) {
  const std::vector<ExperimentData> runs = {simulated("hyperband"), simulated("bohb")};
  const std::string page = format_html_report(runs, {&runs[0]}, HtmlReportOptions{});
  const std::string svg = svg_of(page, "best-so-far");
  EXPECT_EQ(count(svg, "class=\"best-so-far-curve\""), 2u);
  EXPECT_EQ(count(svg, "class=\"reference-best\""), 1u);
  EXPECT_EQ(count(page, "<section class=\"experiment\""), 2u);
  EXPECT_NE(page.find("(reference)"), std::string::npos);
  EXPECT_THROW(format_html_report(runs, {&runs[0], &runs[1]}, HtmlReportOptions{}), std::exception);
}

TEST(HtmlReport, EscapesOddNames) {
  const ExperimentData& run = simulated("asha");  // named: asha <demo> & "friends"
  const std::string page = page_of(run);
  EXPECT_EQ(page.find("<demo>"), std::string::npos);
  EXPECT_NE(page.find("asha &lt;demo&gt; &amp; &quot;friends&quot;"), std::string::npos);
}

TEST(HtmlReport, WritesEachPlotAsAStandaloneSvgFile) {
  testing::TempDir dir("html-plots");
  const ExperimentData& run = simulated("pbt");
  write_plot_files({run}, {}, HtmlReportOptions{}, dir.path() + "/plots");
  const auto files = html_plot_files({run}, {}, HtmlReportOptions{});
  std::set<std::string> names;
  for (const auto& f : files) {
    names.insert(f.name);
    EXPECT_EQ(f.svg.rfind("<?xml", 0), 0u) << f.name;
    EXPECT_NE(f.svg.find("<style>"), std::string::npos) << f.name;
    const std::string on_disk = testing::read_file(dir.path() + "/plots/" + f.name);
    EXPECT_EQ(on_disk, f.svg);
  }
  const std::string page = page_of(run);
  EXPECT_EQ(files.size(), count(page, "<figure "));
  for (const char* n : {"all_best_so_far.svg", "e1_learning_curves_step.svg", "e1_learning_curves_device_minutes.svg",
                        "e1_pbt_lineage.svg", "e1_pbt_schedule_lr.svg", "e1_timeline.svg", "e1_importance.svg"})
    EXPECT_TRUE(names.count(n)) << n;
}

TEST(HtmlReport, ImportanceSaysItsMethodAndHowManyTrials) {
  const ExperimentData& run = simulated("pbt");
  const std::string page = page_of(run);
  const std::string svg = svg_of(page, "importance");
  ASSERT_FALSE(svg.empty());
  // Every PBT trial reaches max_t, so the common step is 40 and it rests on all 8 trials.
  EXPECT_NE(svg.find("data-trials=\"8\" data-budget=\"40\""), std::string::npos);
  EXPECT_NE(page.find("functional ANOVA"), std::string::npos);
  EXPECT_EQ(count(svg, "class=\"importance-bar\""), 2u);
}

}  // namespace
}  // namespace mpitune
