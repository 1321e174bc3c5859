// The report's numbers from hand-built experiments: best value, time to best, device-minutes,
// cost ratio; and how they appear in the Markdown and CSV tables.
#include "mpitune/report/report.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

MetricRecord report(TrialId trial, int64_t step, double time, double train_loss, double eval_loss) {
  MetricRecord m;
  m.trial = trial;
  m.step = step;
  m.time = time;
  m.train_loss = train_loss;
  m.eval_loss = eval_loss;
  return m;
}

TrialRecord trial(TrialId id, TrialStatus status, HParams hp = {}) {
  TrialRecord t;
  t.id = id;
  t.status = status;
  t.hparams = std::move(hp);
  return t;
}

// Five ranks, eval_loss (min). Best 2.0 first at t = 1060 (60 s in; reached again later).
ExperimentData run_a() {
  ExperimentData d;
  d.info.name = "asha-run";
  d.info.scheduler = "asha";
  d.info.searcher = "random";
  d.info.metric = "eval_loss";
  d.info.mode = "min";
  d.info.world_size = 5;
  d.info.start_time = 1000;
  HParams best;
  best.set("lr", 0.001);
  best.set("batch_size", 16);
  d.trials = {trial(0, TrialStatus::Completed, best), trial(1, TrialStatus::Stopped),
              trial(2, TrialStatus::Failed)};
  d.metrics = {report(0, 1, 1010, 3.5, 3.0), report(1, 1, 1020, 3.0, 2.5), report(0, 3, 1060, 2.2, 2.0),
               report(1, 3, 1090, 2.1, 2.0), report(1, 4, 1100, 0.5, kNaN)};
  d.summary.status = "finished";
  d.summary.device_seconds = 600;
  return d;
}

// Three ranks, train_loss (min), no summary: the total comes from the last row (a decision).
ExperimentData run_b() {
  ExperimentData d;
  d.info.name = "fifo-run";
  d.info.scheduler = "fifo";
  d.info.searcher = "grid";
  d.info.metric = "train_loss";
  d.info.mode = "min";
  d.info.world_size = 3;
  d.info.start_time = 2000;
  d.trials = {trial(7, TrialStatus::Running)};
  d.metrics = {report(7, 1, 2030, 1.5, 0.1), report(7, 2, 2090, 1.2, 0.2)};
  DecisionRecord late;
  late.time = 2120;
  d.decisions = {late};
  return d;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> split_csv_line(const std::string& line) {  // the tests' cells have no quotes
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ReportCost, BestTimeToBestAndDeviceMinutes) {
  const RunCost a = compute_run_cost(run_a());
  EXPECT_EQ(a.method, "asha+random");
  EXPECT_EQ(a.best, 2.0);
  EXPECT_EQ(a.best_trial, 0);  // trial 1 reached 2.0 too, but later
  EXPECT_EQ(a.best_step, 3);
  EXPECT_DOUBLE_EQ(a.time_to_best_s, 60.0);
  EXPECT_EQ(a.devices, 5);
  EXPECT_DOUBLE_EQ(a.device_minutes_to_best, 5.0);   // 5 x 60 s / 60
  EXPECT_DOUBLE_EQ(a.device_minutes_total, 10.0);    // 600 device-seconds

  const RunCost b = compute_run_cost(run_b());
  EXPECT_EQ(b.best, 1.2);  // train_loss, not the smaller eval_loss values
  EXPECT_DOUBLE_EQ(b.time_to_best_s, 90.0);
  EXPECT_DOUBLE_EQ(b.device_minutes_to_best, 4.5);   // 3 x 90 / 60
  EXPECT_DOUBLE_EQ(b.device_minutes_total, 6.0);     // 3 x (2120 - 2000) / 60
  EXPECT_DOUBLE_EQ(cost_ratio(b, a), 0.9);
}

TEST(ReportCost, MaxModeAndRowsOutOfTimeOrder) {
  ExperimentData d = run_a();
  d.info.mode = "max";
  d.metrics = {report(4, 9, 1300, 0, 7.0), report(3, 2, 1100, 0, 7.0), report(3, 1, 1050, 0, 6.0)};
  const RunCost c = compute_run_cost(d);
  EXPECT_EQ(c.best, 7.0);
  EXPECT_EQ(c.best_trial, 3);  // the earlier of the two 7.0 reports
  EXPECT_DOUBLE_EQ(c.time_to_best_s, 100.0);
}

TEST(ReportCost, NoReportsYetLeavesTheNumbersUndefined) {
  ExperimentData d = run_a();
  d.metrics.clear();
  d.summary.device_seconds = 0;
  const RunCost c = compute_run_cost(d);
  EXPECT_TRUE(std::isnan(c.best));
  EXPECT_TRUE(std::isnan(c.time_to_best_s));
  EXPECT_TRUE(std::isnan(c.device_minutes_total));
  EXPECT_TRUE(std::isnan(cost_ratio(c, compute_run_cost(run_a()))));
  const std::string md = format_report({d}, nullptr, ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "| asha-run | asha+random | eval_loss (min) | - | - | 5 | - | - |  |")) << md;
  EXPECT_TRUE(contains(md, "no metric reported yet")) << md;
}

TEST(ReportCost, UnknownMetricIsAConfigError) {
  ExperimentData d = run_a();
  d.info.metric = "accuracy";
  EXPECT_THROW(compute_run_cost(d), ConfigError);
}

TEST(ReportMarkdown, RowsRatiosDefinitionsAndBestConfigurations) {
  const std::vector<ExperimentData> runs = {run_a(), run_b()};
  const std::string md = format_report(runs, &runs[0], ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "| asha-run | asha+random | eval_loss (min) | 2 | 60.0 | 5 | 5.00 | 10.00 | 1.00 |")) << md;
  EXPECT_TRUE(contains(md, "| fifo-run | fifo+grid | train_loss (min) | 1.2 | 90.0 | 3 | 4.50 | 6.00 | 0.90 |")) << md;
  // The reference is one of the runs: listed once.
  EXPECT_EQ(md.find("| asha-run |"), md.rfind("| asha-run |"));
  for (const char* term : {"- best:", "- time to best:", "- devices:", "- device-min to best:",
                           "- device-min total:", "- cost vs reference:"})
    EXPECT_TRUE(contains(md, term)) << term;
  EXPECT_TRUE(contains(md, "- best trial: 0 (eval_loss 2 at step 3)")) << md;
  EXPECT_TRUE(contains(md, "- hyperparameters: lr=0.001 batch_size=16")) << md;
  EXPECT_TRUE(contains(md, "- trials: 3 (completed 1, stopped 1, failed 1)")) << md;
  EXPECT_TRUE(contains(md, "- trials: 1 (running 1)")) << md;
}

TEST(ReportMarkdown, NoReferenceLeavesTheRatioBlank) {
  const std::string md = format_report({run_b()}, nullptr, ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "| 4.50 | 6.00 |  |")) << md;
}

TEST(ReportCsv, OneHeaderAndOneRowPerExperimentWithTheReferenceFirst) {
  const ExperimentData reference = run_a();
  const std::string csv = format_report({run_b()}, &reference, ReportFormat::Csv);
  const auto lines = lines_of(csv);
  ASSERT_EQ(lines.size(), 3u) << csv;
  const auto header = split_csv_line(lines[0]);
  const auto ref = split_csv_line(lines[1]);
  const auto b = split_csv_line(lines[2]);
  ASSERT_EQ(ref.size(), header.size()) << lines[1];
  ASSERT_EQ(b.size(), header.size()) << lines[2];
  auto cell = [&](const std::vector<std::string>& row, const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return row[i];
    ADD_FAILURE() << "no column " << name;
    return std::string();
  };
  EXPECT_EQ(cell(ref, "experiment"), "asha-run");
  EXPECT_EQ(cell(ref, "cost_ratio"), "1.0000");
  EXPECT_EQ(cell(ref, "best_hparams"), "lr=0.001 batch_size=16");
  EXPECT_EQ(cell(ref, "completed"), "1");
  EXPECT_EQ(cell(ref, "failed"), "1");
  EXPECT_EQ(cell(b, "experiment"), "fifo-run");
  EXPECT_EQ(cell(b, "method"), "fifo+grid");
  EXPECT_EQ(std::stod(cell(b, "best")), 1.2);
  EXPECT_EQ(cell(b, "time_to_best_s"), "90.000");
  EXPECT_EQ(cell(b, "devices"), "3");
  EXPECT_EQ(cell(b, "device_minutes_to_best"), "4.5000");
  EXPECT_EQ(cell(b, "device_minutes_total"), "6.0000");
  EXPECT_EQ(cell(b, "cost_ratio"), "0.9000");
  EXPECT_EQ(cell(b, "best_trial"), "7");
  EXPECT_EQ(cell(b, "running"), "1");
}

TEST(ReportCsv, QuotesCellsWithCommas) {
  ExperimentData d = run_b();
  d.info.name = "lr sweep, small";
  const std::string csv = format_report({d}, nullptr, ReportFormat::Csv);
  EXPECT_TRUE(contains(csv, "\n\"lr sweep, small\",fifo+grid,")) << csv;
}

TEST(ReportFormat, ParsesMdAndCsvOnly) {
  EXPECT_EQ(parse_report_format("md"), ReportFormat::Markdown);
  EXPECT_EQ(parse_report_format("csv"), ReportFormat::Csv);
  EXPECT_THROW(parse_report_format("html"), ConfigError);
}

}  // namespace
}  // namespace mpitune
