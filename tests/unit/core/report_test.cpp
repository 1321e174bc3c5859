// The cost table from hand-built experiments: best at full budget against a better value at a
// lower budget, the flagged lower-budget case, devices without the coordinator, device-minutes,
// cost ratio, the quality-aware columns ("not reached"), rows keyed by file (duplicate names, a
// reference given twice), forgetting, and the Markdown and CSV forms.
#include "mpitune/report/report.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/report/report_rows.hpp"
#include "report_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using namespace report_fixtures;

TEST(ReportCost, BestAtFullBudgetNotTheBetterValueAtALowerBudget) {
  const RunCost c = compute_run_cost(asha());
  EXPECT_EQ(c.method, "asha+random");
  EXPECT_EQ(c.best_trial, 1);
  EXPECT_EQ(c.best, 1.9);
  EXPECT_EQ(c.best_budget, 100);
  EXPECT_TRUE(c.best_at_full_budget);
  EXPECT_EQ(c.best_any, 1.5);  // trial 2 at step 10: a column of its own
  EXPECT_EQ(c.best_any_trial, 2);
  EXPECT_EQ(c.best_any_step, 10);
  EXPECT_DOUBLE_EQ(c.time_to_best_s, 90.0);  // the row of trial 1's final result
  EXPECT_EQ(c.devices, 2);
  EXPECT_DOUBLE_EQ(c.device_minutes_to_best, 3.0);
  EXPECT_DOUBLE_EQ(c.device_minutes_total, 5.0);  // 2 x 150 s elapsed / 60
}

TEST(ReportCost, DevicesLeaveTheCoordinatorOutAndTotalsFallBackToTheLastRow) {
  const RunCost c = compute_run_cost(pbt());
  EXPECT_EQ(c.devices, 2);  // world size 3, devices not recorded
  EXPECT_DOUBLE_EQ(c.time_to_best_s, 30.0);
  EXPECT_DOUBLE_EQ(c.device_minutes_to_best, 1.0);
  EXPECT_DOUBLE_EQ(c.device_minutes_total, 2.0);  // no summary: to the decision at 60 s
  EXPECT_DOUBLE_EQ(cost_ratio(c, compute_run_cost(grid())), 0.25);
}

TEST(ReportCost, BestAtALowerBudgetIsFlagged) {
  // Full budget 1000 steps; no trial got past 300. Trial 1's 2.1 at step 100 is better but at a
  // lower budget than trial 0's 2.4 at step 300.
  ExperimentData d = experiment("short", "short.h5", "asha", 2, 1000, 0);
  d.trials = {trial(0, TrialStatus::Stopped, 2.4, 300), trial(1, TrialStatus::Stopped, 2.1, 100)};
  d.metrics = {metric(1, 100, 20, 2.1), metric(0, 300, 50, 2.4)};
  const RunCost c = compute_run_cost(d);
  EXPECT_EQ(c.best_trial, 0);
  EXPECT_EQ(c.best, 2.4);
  EXPECT_EQ(c.best_budget, 300);
  EXPECT_FALSE(c.best_at_full_budget);
  EXPECT_EQ(c.best_any, 2.1);
  const std::string md = format_report({d}, nullptr, ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "| short | short.h5 | asha+random | eval_loss (min) | 2.4 (300 steps) | 2.1 | -")) << md;
  EXPECT_TRUE(contains(md, "best at a lower budget (300 steps); no trial reached the full budget of 1000 steps")) << md;
  const CsvTable csv = parse_csv(format_report({d}, nullptr, ReportFormat::Csv));
  EXPECT_EQ(csv.cell(0, "best_at_full_budget"), "0");
  EXPECT_EQ(csv.cell(0, "best_budget"), "300");
}

TEST(ReportCost, EarlyStoppedTrialStandsForTheFullBudget) {
  ExperimentData d = experiment("es", "es.h5", "fifo", 1, 100, 0);
  d.trials = {trial(0, TrialStatus::EarlyStopped, 1.7, 40), trial(1, TrialStatus::Completed, 1.8, 100)};
  d.metrics = {metric(0, 40, 10, 1.7), metric(1, 100, 30, 1.8)};
  const RunCost c = compute_run_cost(d);
  EXPECT_EQ(c.best_trial, 0);
  EXPECT_TRUE(c.best_at_full_budget);
  EXPECT_DOUBLE_EQ(c.time_to_best_s, 10.0);
}

TEST(ReportCost, MaxModeAndRowsOutOfTimeOrder) {
  ExperimentData d = experiment("max", "", "fifo", 1, 9, 1000);
  d.info.mode = "max";
  d.trials = {trial(3, TrialStatus::Completed, 7.0, 9), trial(4, TrialStatus::Completed, 7.0, 9)};
  d.metrics = {metric(4, 9, 1300, 7.0), metric(3, 9, 1100, 7.0), metric(3, 1, 1050, 6.0)};
  const RunCost c = compute_run_cost(d);
  EXPECT_EQ(c.best_trial, 3);  // the tie goes to the lower id
  EXPECT_DOUBLE_EQ(c.time_to_best_s, 100.0);
  EXPECT_EQ(c.best_any_trial, 3);  // the earlier of the two 7.0 reports
}

TEST(ReportCost, NoReportsYetLeavesTheNumbersUndefined) {
  ExperimentData d = grid();
  d.metrics.clear();
  d.trials.clear();
  d.summary.elapsed_s = 0;
  const RunCost c = compute_run_cost(d);
  EXPECT_TRUE(std::isnan(c.best));
  EXPECT_TRUE(std::isnan(c.best_any));
  EXPECT_TRUE(std::isnan(c.time_to_best_s));
  EXPECT_TRUE(std::isnan(c.device_minutes_total));
  const std::string md = format_report({d}, nullptr, ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "| grid | grid.h5 | fifo+grid | eval_loss (min) | - | - | - | - | 4 | - | - |  |  |  |"))
      << md;
  EXPECT_TRUE(contains(md, "no trial has a final result yet")) << md;
}

TEST(ReportCost, UnknownMetricIsAConfigError) {
  ExperimentData d = grid();
  d.info.metric = "accuracy";
  EXPECT_THROW(compute_run_cost(d), ConfigError);
}

TEST(ReportCost, QualityAwareTimeToTheReferenceBest) {
  const TargetReach a = time_to_reach(asha(), 2.0);
  EXPECT_TRUE(a.reached);
  EXPECT_DOUBLE_EQ(a.time_s, 15.0);
  EXPECT_DOUBLE_EQ(a.device_minutes, 0.5);
  const TargetReach equal = time_to_reach(grid(), 2.0);  // "at least as good" includes equal
  EXPECT_TRUE(equal.reached);
  EXPECT_DOUBLE_EQ(equal.time_s, 60.0);
  EXPECT_FALSE(time_to_reach(pbt(), 2.0).reached);
  EXPECT_FALSE(time_to_reach(asha(), kNaN).reached);
}

TEST(ReportMarkdown, ReferenceRatiosAndQualityAwareColumns) {
  const std::vector<ExperimentData> runs = {grid(), asha(), pbt()};
  const std::string md = format_report(runs, &runs[0], ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "| grid (reference) | grid.h5 | fifo+grid | eval_loss (min) | 2 | 2 | - | 60.0 | 4 | 4.00 | "
                           "8.00 | 1.00 | 60.0 | 4.00 |"))
      << md;
  EXPECT_TRUE(contains(md, "| asha | asha.h5 | asha+random | eval_loss (min) | 1.9 | 1.5 | - | 90.0 | 2 | 3.00 | 5.00 | "
                           "0.75 | 15.0 | 0.50 |"))
      << md;
  EXPECT_TRUE(contains(md, "| pbt | pbt.h5 | pbt+random | eval_loss (min) | 2.3 | 2.3 | - | 30.0 | 2 | 1.00 | 2.00 | "
                           "0.25 | not reached | not reached |"))
      << md;
  for (const char* term : {"- best at full budget:", "- best at any step:", "- test loss (95% CI):",
                           "- time to best (s):", "- devices:", "- device-min to best:", "- device-min total:",
                           "- cost vs reference:", "- time to reference best (s), device-min to reference best:"})
    EXPECT_TRUE(contains(md, term)) << term;
  EXPECT_TRUE(contains(md, "- best trial: 1 (eval_loss 1.9 at step 100, the full budget)")) << md;
  EXPECT_TRUE(contains(md, "- best at any step: trial 2, eval_loss 1.5 at step 10")) << md;
  EXPECT_TRUE(contains(md, "- hyperparameters: lr=0.001")) << md;
  EXPECT_TRUE(contains(md, "- trials: 3 (completed 1, stopped 2)")) << md;
  // No test evaluation anywhere: no significance section.
  EXPECT_FALSE(contains(md, "Test loss against the reference")) << md;
}

TEST(ReportMarkdown, NoReferenceLeavesRatioAndQualityColumnsBlank) {
  const std::string md = format_report({asha()}, nullptr, ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "| 3.00 | 5.00 |  |  |  |")) << md;
}

TEST(ReportRows, DuplicateNamesAreTwoRowsKeyedByFile) {
  ExperimentData first = asha(), second = asha();
  first.path = "seed1/asha.h5";
  second.path = "seed2/asha.h5";
  second.metrics.back().time = 5120;  // trial 1's final result 120 s in
  const std::string md = format_report({first, second}, nullptr, ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "| asha | seed1/asha.h5 | asha+random | eval_loss (min) | 1.9 | 1.5 | - | 90.0 |")) << md;
  EXPECT_TRUE(contains(md, "| asha | seed2/asha.h5 | asha+random | eval_loss (min) | 1.9 | 1.5 | - | 120.0 |")) << md;
  EXPECT_TRUE(contains(md, "### asha (seed1/asha.h5)")) << md;
  EXPECT_TRUE(contains(md, "### asha (seed2/asha.h5)")) << md;
  const CsvTable csv = parse_csv(format_report({first, second}, nullptr, ReportFormat::Csv));
  ASSERT_EQ(csv.rows.size(), 2u);
  EXPECT_EQ(csv.cell(0, "file"), "seed1/asha.h5");
  EXPECT_EQ(csv.cell(1, "file"), "seed2/asha.h5");
}

TEST(ReportRows, AReferenceAlsoGivenAsAFileIsOneRow) {
  const std::vector<ExperimentData> runs = {asha(), grid()};
  // The reference read again from the same path: another object, one file.
  const ExperimentData again = grid();
  const std::string md = format_report(runs, &again, ReportFormat::Markdown);
  EXPECT_EQ(occurrences(md, "| grid (reference) | grid.h5 |"), 1u) << md;
  EXPECT_EQ(occurrences(md, "| grid |"), 0u) << md;
  EXPECT_EQ(occurrences(md, "### grid"), 1u) << md;
  // Listed where the files list it, after asha.
  EXPECT_LT(md.find("| asha |"), md.find("| grid (reference) |")) << md;
  const ReportRows rows = make_report_rows(runs, {&again});
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_FALSE(rows.rows[0].is_reference);
  EXPECT_TRUE(rows.rows[1].is_reference);
  EXPECT_DOUBLE_EQ(rows.rows[1].ratio, 1.0);
  EXPECT_DOUBLE_EQ(rows.rows[0].ratio, 0.75);

  // Not from files (no paths): the same object is the same experiment; an equal copy is not.
  std::vector<ExperimentData> memory = {grid(), asha()};
  for (auto& m : memory) m.path.clear();
  EXPECT_EQ(make_report_rows(memory, {&memory[0]}).rows.size(), 2u);
  const ExperimentData copy = memory[0];
  EXPECT_EQ(make_report_rows(memory, {&copy}).rows.size(), 3u);
}

TEST(ReportRows, AReferenceNotAmongTheFilesComesFirstAndAFileGivenTwiceIsOneRow) {
  const ExperimentData reference = grid();
  const std::vector<ExperimentData> runs = {asha(), asha()};
  const ReportRows rows = make_report_rows(runs, {&reference});
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_TRUE(rows.rows[0].is_reference);
  EXPECT_EQ(rows.rows[0].cost.name, "grid");
  EXPECT_EQ(rows.rows[1].cost.name, "asha");
}

TEST(ReportRows, SameFileByCanonicalPath) {
  testing::TempDir dir("mpitune-report");
  ASSERT_EQ(::mkdir(dir.file("sub").c_str(), 0755), 0);
  testing::write_file(dir.file("sub/run.h5"), "x");
  ExperimentData a = grid(), b = grid(), c = grid();
  a.path = dir.file("sub/run.h5");
  b.path = dir.path() + "/sub/../sub/./run.h5";
  c.path = dir.file("other.h5");
  EXPECT_TRUE(same_result_file(a, b));
  EXPECT_FALSE(same_result_file(a, c));
  EXPECT_TRUE(same_result_file(c, c));
}

TEST(ReportRows, ShortestUnambiguousPaths) {
  const auto shown = display_paths({"/r/a/x/run.h5", "/r/b/x/run.h5", "results/other.h5", "", "plain.h5"});
  ASSERT_EQ(shown.size(), 5u);
  EXPECT_EQ(shown[0], "a/x/run.h5");
  EXPECT_EQ(shown[1], "b/x/run.h5");
  EXPECT_EQ(shown[2], "other.h5");
  EXPECT_EQ(shown[3], "-");
  EXPECT_EQ(shown[4], "plain.h5");
  // One path that ends another: the shorter is shown whole.
  const auto nested = display_paths({"run.h5", "old/run.h5"});
  EXPECT_EQ(nested[0], "run.h5");
  EXPECT_EQ(nested[1], "old/run.h5");
}

TEST(ReportRows, SeveralReferencesNeedAggregate) {
  const ExperimentData r1 = grid(), r2 = grid();
  ReportOptions options;
  EXPECT_THROW(format_report({asha()}, {&r1, &r2}, options), ConfigError);
}

TEST(ReportForgetting, BaseAgainstTheBestInTheSectionAndCsv) {
  ExperimentData d = asha();
  add_final(d, "base", 2.6, 5, 3.0);
  add_final(d, "best", 1.1, 5, 3.4);
  const std::string md = format_report({d}, nullptr, ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "retention loss 3 -> 3.4 (+0.4); test loss 2.6 -> 1.1 (-1.5)")) << md;
  EXPECT_TRUE(contains(md, "| 1.1 [1.05, 1.15] |")) << md;  // the best row's test loss and CI
  const CsvTable csv = parse_csv(format_report({d}, nullptr, ReportFormat::Csv));
  EXPECT_EQ(std::stod(csv.cell(0, "base_retention_loss")), 3.0);
  EXPECT_EQ(std::stod(csv.cell(0, "best_retention_loss")), 3.4);
  EXPECT_EQ(std::stod(csv.cell(0, "base_test_loss")), 2.6);
  EXPECT_EQ(std::stod(csv.cell(0, "test_loss")), 1.1);
  EXPECT_EQ(csv.cell(0, "test_label"), "best");
}

TEST(ReportForgetting, RetrainRowIsTheTestRowAndMetricsGiveTheRetentionWithoutOne) {
  ExperimentData d = asha();
  add_final(d, "best", 1.1, 5);
  add_final(d, "retrain", 1.05, 5);
  d.metrics.back().retention_loss = 3.25;  // trial 1's final result row
  const RunCost c = compute_run_cost(d);
  EXPECT_EQ(c.test_label, "retrain");
  EXPECT_EQ(c.test_loss, 1.05);
  EXPECT_EQ(c.best_retention_loss, 3.25);
  EXPECT_FALSE(c.has_base);
  EXPECT_FALSE(contains(format_report({d}, nullptr, ReportFormat::Markdown), "- forgetting"));
}

TEST(ReportCsv, OneHeaderAndOneRowPerFileInStep) {
  const ExperimentData reference = grid();
  const std::string text = format_report({asha(), pbt()}, &reference, ReportFormat::Csv);
  const CsvTable csv = parse_csv(text);
  ASSERT_EQ(csv.rows.size(), 3u) << text;
  for (const auto& row : csv.rows) EXPECT_EQ(row.size(), csv.header.size()) << text;
  EXPECT_EQ(csv.cell(0, "experiment"), "grid");
  EXPECT_EQ(csv.cell(0, "reference"), "1");
  EXPECT_EQ(csv.cell(0, "cost_ratio"), "1.0000");
  EXPECT_EQ(csv.cell(0, "best_hparams"), "lr=0.001");
  EXPECT_EQ(csv.cell(0, "completed"), "2");
  EXPECT_EQ(csv.cell(1, "experiment"), "asha");
  EXPECT_EQ(csv.cell(1, "reference"), "0");
  EXPECT_EQ(csv.cell(1, "method"), "asha+random");
  EXPECT_EQ(std::stod(csv.cell(1, "best")), 1.9);
  EXPECT_EQ(csv.cell(1, "best_trial"), "1");
  EXPECT_EQ(std::stod(csv.cell(1, "best_any")), 1.5);
  EXPECT_EQ(csv.cell(1, "time_to_best_s"), "90.000");
  EXPECT_EQ(csv.cell(1, "devices"), "2");
  EXPECT_EQ(csv.cell(1, "device_minutes_to_best"), "3.0000");
  EXPECT_EQ(csv.cell(1, "device_minutes_total"), "5.0000");
  EXPECT_EQ(csv.cell(1, "cost_ratio"), "0.7500");
  EXPECT_EQ(csv.cell(1, "reached_reference"), "1");
  EXPECT_EQ(csv.cell(1, "time_to_reference_s"), "15.000");
  EXPECT_EQ(csv.cell(1, "device_minutes_to_reference"), "0.5000");
  EXPECT_EQ(csv.cell(1, "stopped"), "2");
  EXPECT_EQ(csv.cell(2, "reached_reference"), "0");
  EXPECT_EQ(csv.cell(2, "time_to_reference_s"), "");
  EXPECT_EQ(csv.cell(2, "test_comparison"), "neither has a test evaluation (/final)");
}

TEST(ReportCsv, QuotesCellsWithCommas) {
  ExperimentData d = pbt();
  d.info.name = "lr sweep, small";
  const std::string text = format_report({d}, nullptr, ReportFormat::Csv);
  EXPECT_TRUE(contains(text, "\n\"lr sweep, small\",pbt.h5,0,pbt+random,")) << text;
  EXPECT_EQ(parse_csv(text).cell(0, "experiment"), "lr sweep, small");
}

TEST(ReportFormat, ParsesMdAndCsvOnly) {
  EXPECT_EQ(parse_report_format("md"), ReportFormat::Markdown);
  EXPECT_EQ(parse_report_format("csv"), ReportFormat::Csv);
  EXPECT_THROW(parse_report_format("html"), ConfigError);
}

}  // namespace
}  // namespace mpitune
