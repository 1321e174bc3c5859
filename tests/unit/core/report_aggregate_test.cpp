// `mpitune report --aggregate`: repeated runs of one experiment name as median and IQR, with the
// reference runs' medians as the reference. Figures worked out by hand (linear interpolation
// between order statistics, numpy's default).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "mpitune/report/report.hpp"
#include "mpitune/report/spread.hpp"
#include "report_fixtures.hpp"

namespace mpitune {
namespace {

using namespace report_fixtures;

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(ReportSpread, MedianAndQuartilesOfKnownNumbers) {
  const Spread odd = spread_of({5, 1, 3, 2, 4});
  EXPECT_EQ(odd.count, 5);
  EXPECT_DOUBLE_EQ(odd.median, 3);
  EXPECT_DOUBLE_EQ(odd.q25, 2);
  EXPECT_DOUBLE_EQ(odd.q75, 4);
  const Spread even = spread_of({8, 2, kNaN, 6, 4});  // NaN: a run without the figure
  EXPECT_EQ(even.count, 4);
  EXPECT_DOUBLE_EQ(even.median, 5);
  EXPECT_DOUBLE_EQ(even.q25, 3.5);  // 2 + 0.75 x (4 - 2)
  EXPECT_DOUBLE_EQ(even.q75, 6.5);  // 6 + 0.25 x (8 - 6)
  const Spread none = spread_of({kNaN});
  EXPECT_EQ(none.count, 0);
  EXPECT_TRUE(std::isnan(none.median));
}

TEST(ReportSpread, NotReachedCountsAsSlowest) {
  const Spread half = spread_of({60, kInf, 120, kInf});
  EXPECT_DOUBLE_EQ(half.q25, 105);  // 60 + 0.75 x 60
  EXPECT_TRUE(std::isinf(half.median));
  EXPECT_TRUE(std::isinf(half.q75));
  const Spread most = spread_of({10, 20, kInf});
  EXPECT_DOUBLE_EQ(most.median, 20);
  EXPECT_DOUBLE_EQ(most.q25, 15);
  EXPECT_TRUE(std::isinf(most.q75));
}

// One run: 2 devices, its best `best` at full budget reported `seconds` in, nothing earlier.
ExperimentData one_run(const std::string& name, const std::string& path, double best, double seconds) {
  ExperimentData d = experiment(name, path, name == "grid" ? "fifo" : "asha", 2, 100, 1000);
  d.trials = {trial(0, TrialStatus::Completed, best, 100)};
  d.metrics = {metric(0, 100, 1000 + seconds, best)};
  d.summary.elapsed_s = seconds + 30;
  return d;
}

// Four asha runs: bests 1, 2, 3, 4 (median 2.5 [1.75, 3.25]); found 60, 120, 180, 240 s in:
// 2, 4, 6, 8 device-min (median 5 [3.5, 6.5]); elapsed 30 s more: 3, 5, 7, 9 device-min in total
// (median 6 [4.5, 7.5]). Two grid reference runs: bests 2 and 3 (median 2.5),
// device-min to best 4 and 6 (median 5): the asha ratios are 0.4, 0.8, 1.2, 1.6 (median 1
// [0.7, 1.3]). The reference best 2.5 is matched by the runs with bests 1 and 2 only, 60 and 120 s
// in: median not reached, [105, not reached].
struct Workshop {
  std::vector<ExperimentData> runs;
  std::vector<ExperimentData> references;
};
Workshop workshop() {
  Workshop w;
  for (int i = 1; i <= 4; ++i)
    w.runs.push_back(one_run("asha", "results/asha-" + std::to_string(i) + ".h5", i, 60.0 * i));
  w.references = {one_run("grid", "results/grid-1.h5", 2, 120), one_run("grid", "results/grid-2.h5", 3, 180)};
  return w;
}

std::vector<const ExperimentData*> pointers(const std::vector<ExperimentData>& v) {
  std::vector<const ExperimentData*> out;
  for (const auto& d : v) out.push_back(&d);
  return out;
}

TEST(ReportAggregate, MarkdownMediansAndIqrPerExperimentName) {
  const Workshop w = workshop();
  ReportOptions options;
  options.aggregate = true;
  const std::string md = format_report(w.runs, pointers(w.references), options);
  EXPECT_TRUE(contains(md, "| grid (reference) | 2 | fifo+grid | eval_loss (min) | 2.5 [2.25, 2.75] |")) << md;
  EXPECT_TRUE(contains(md, "| asha | 4 | asha+random | eval_loss (min) | 2.5 [1.75, 3.25] | 2.5 [1.75, 3.25] | - | "
                           "150.0 [105.0, 195.0] | 2 [2, 2] | 5.00 [3.50, 6.50] | 6.00 [4.50, 7.50] | "
                           "1.00 [0.70, 1.30] | not reached [105.0, not reached] (2/4 reached) | "
                           "not reached [3.50, not reached] |"))
      << md;
  EXPECT_EQ(occurrences(md, "| asha |"), 1u) << md;
  EXPECT_TRUE(contains(md, "Each cell is the median over the experiment's runs")) << md;
  EXPECT_TRUE(contains(md, "### asha (4 runs)")) << md;
}

TEST(ReportAggregate, CsvInStep) {
  const Workshop w = workshop();
  ReportOptions options;
  options.aggregate = true;
  options.format = ReportFormat::Csv;
  const std::string text = format_report(w.runs, pointers(w.references), options);
  const CsvTable csv = parse_csv(text);
  ASSERT_EQ(csv.rows.size(), 2u) << text;
  for (const auto& row : csv.rows) EXPECT_EQ(row.size(), csv.header.size()) << text;
  EXPECT_EQ(csv.cell(0, "experiment"), "grid");
  EXPECT_EQ(csv.cell(0, "reference"), "1");
  EXPECT_EQ(csv.cell(0, "runs"), "2");
  EXPECT_EQ(csv.cell(1, "experiment"), "asha");
  EXPECT_EQ(csv.cell(1, "runs"), "4");
  EXPECT_EQ(csv.cell(1, "files"), "asha-1.h5;asha-2.h5;asha-3.h5;asha-4.h5");
  EXPECT_EQ(std::stod(csv.cell(1, "best_median")), 2.5);
  EXPECT_EQ(std::stod(csv.cell(1, "best_q25")), 1.75);
  EXPECT_EQ(std::stod(csv.cell(1, "best_q75")), 3.25);
  EXPECT_EQ(std::stod(csv.cell(1, "device_minutes_to_best_median")), 5);
  EXPECT_EQ(std::stod(csv.cell(1, "device_minutes_to_best_q25")), 3.5);
  EXPECT_EQ(std::stod(csv.cell(1, "device_minutes_to_best_q75")), 6.5);
  EXPECT_DOUBLE_EQ(std::stod(csv.cell(1, "cost_ratio_median")), 1.0);
  EXPECT_DOUBLE_EQ(std::stod(csv.cell(1, "cost_ratio_q25")), 0.7);
  EXPECT_DOUBLE_EQ(std::stod(csv.cell(1, "cost_ratio_q75")), 1.3);
  EXPECT_EQ(csv.cell(1, "time_to_reference_s_median"), "inf");
  EXPECT_EQ(std::stod(csv.cell(1, "time_to_reference_s_q25")), 105);
  EXPECT_EQ(csv.cell(1, "reached_reference_runs"), "2");
  EXPECT_EQ(csv.cell(1, "test_loss_runs"), "0");
}

TEST(ReportAggregate, AReferenceRunAlsoGivenAsAFileIsCountedOnce) {
  Workshop w = workshop();
  std::vector<ExperimentData> files = w.runs;
  files.push_back(w.references[0]);  // grid-1 among the files too
  ReportOptions options;
  options.aggregate = true;
  options.format = ReportFormat::Csv;
  const CsvTable csv = parse_csv(format_report(files, pointers(w.references), options));
  ASSERT_EQ(csv.rows.size(), 2u);
  size_t grid_row = csv.cell(0, "experiment") == "grid" ? 0 : 1;
  EXPECT_EQ(csv.cell(grid_row, "runs"), "2");
  EXPECT_EQ(csv.cell(grid_row, "reference"), "1");
}

TEST(ReportAggregate, SignificanceCountsEveryRunAgainstEveryReferenceRun) {
  Workshop w = workshop();
  for (auto& r : w.references) add_final(r, "best", 2.0, 20);
  add_final(w.runs[0], "best", 1.0, 20);  // better than both reference runs
  add_final(w.runs[1], "best", 2.0, 20);  // the same as both
  add_final(w.runs[2], "best", 1.0, 9);   // other test documents
  ReportOptions options;
  options.aggregate = true;
  options.bootstrap_resamples = 500;
  const std::string md = format_report(w.runs, pointers(w.references), options);
  EXPECT_TRUE(contains(md, "- asha (4 runs), 8 pairs: 2 better than the reference, significant at 5%; 2 no "
                           "significant difference; 0 worse, significant at 5%; 4 not compared ("))
      << md;
  EXPECT_TRUE(contains(md, "median difference -0.5 [-1, +0]")) << md;
  EXPECT_TRUE(contains(md, "| asha | 4 | asha+random | eval_loss (min) | 2.5 [1.75, 3.25] | 2.5 [1.75, 3.25] | "
                           "1 [1, 1.5] (3 of 4) |"))
      << md;
}

TEST(ReportAggregate, RunsBestAtALowerBudgetAreCounted) {
  Workshop w = workshop();
  w.runs[3].info.max_t = 1000;  // this run's trial stopped at step 100 of 1000
  ReportOptions options;
  options.aggregate = true;
  const std::string md = format_report(w.runs, {}, options);
  EXPECT_TRUE(contains(md, "| asha | 4 | asha+random | eval_loss (min) | 2.5 [1.75, 3.25] (1 at a lower budget) |"))
      << md;
  EXPECT_TRUE(contains(md, "asha-4.h5 4 (best at a lower budget (100 steps))")) << md;
  EXPECT_FALSE(contains(md, "(reference)")) << md;
  EXPECT_FALSE(contains(md, "Test loss against the reference")) << md;
}

}  // namespace
}  // namespace mpitune
