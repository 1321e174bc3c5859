// Files of older schema versions (hand-built: no /final, /events, /segments, /space, max_t or
// scheduler name) still give every section, each empty one saying why; categorical values,
// names with markup and a report with no metrics at all render.
#include <gtest/gtest.h>

#include <cmath>

#include "mpitune/report/html_report.hpp"

namespace mpitune {
namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
  return n;
}

ExperimentData schema1_experiment() {
  ExperimentData d;
  d.path = "old/schema1.h5";
  d.info.schema_version = 1;
  d.info.name = "old run";
  d.info.metric = "eval_loss";
  d.info.mode = "min";
  d.info.world_size = 3;
  d.info.group_size = 1;
  d.info.num_groups = 2;
  d.info.start_time = 1000;
  for (int i = 0; i < 6; ++i) {
    TrialRecord t;
    t.id = i;
    t.group = i % 2;
    t.hparams.set("lr", 1e-5 * std::pow(10.0, 0.6 * i));  // 1e-5 .. 1e-2
    t.hparams.set("opt<x>", std::string(i % 2 ? "adam" : "sgd"));
    t.start_time = 1000 + 10 * i;
    t.end_time = t.start_time + 9;
    t.status = i == 5 ? TrialStatus::Failed : i < 2 ? TrialStatus::Completed : TrialStatus::Stopped;
    t.reason = i == 5 ? "NaN loss at step 3 <oops>" : "";
    const int steps = i < 2 ? 9 : 3;
    for (int s = 1; s <= steps; ++s) {
      MetricRecord m;
      m.trial = i;
      m.step = s;
      m.time = t.start_time + s;
      m.eval_loss = 3.0 / s + 0.1 * i;
      d.metrics.push_back(m);
      t.last_step = s;
      t.last_metric = m.eval_loss;
      t.metric_step = s;
    }
    if (i == 5) t.last_metric = kNaN, t.metric_step = -1;
    d.trials.push_back(t);
  }
  d.summary.status = "finished";
  d.summary.elapsed_s = 70;
  return d;
}

TEST(HtmlOldSchema, EverySectionIsThereAndTheEmptyOnesSayWhy) {
  const ExperimentData d = schema1_experiment();
  const std::string page = format_html_report({d}, {}, HtmlReportOptions{});
  for (const char* s : {"learning-curves", "rungs", "pbt", "parallel-coordinates", "scatter", "importance",
                        "best-configurations", "final", "failures", "timeline"})
    EXPECT_EQ(count(page, std::string("data-section=\"") + s + "\""), 1u) << s;
  EXPECT_NE(page.find("no /final table: the file&#39;s schema version 1 predates test evaluations"), std::string::npos);
  EXPECT_NE(page.find("no lineage"), std::string::npos);
  EXPECT_NE(page.find("no rung diagram"), std::string::npos);
  EXPECT_NE(page.find("from /trials"), std::string::npos) << "timeline without /events";
  EXPECT_NE(page.find("schema 1 (older than this build"), std::string::npos);
  // Curves for the 6 trials with values; the failure with its escaped reason.
  EXPECT_EQ(count(page, "<polyline class=\"curve "), 12u);  // two plots
  EXPECT_NE(page.find("NaN loss at step 3 &lt;oops&gt;"), std::string::npos);
  // The space is inferred from the values: a log axis for lr (two decades and more), a choice axis.
  EXPECT_NE(page.find("lr (log scale)"), std::string::npos);
  EXPECT_NE(page.find("opt&lt;x&gt; (choice)"), std::string::npos);
  EXPECT_EQ(page.find("<x>"), std::string::npos);
  EXPECT_EQ(count(page, "class=\"bar\""), 6u);
}

TEST(HtmlOldSchema, AnExperimentWithNoMetricsYetStillRenders) {
  ExperimentData d = schema1_experiment();
  d.metrics.clear();
  for (auto& t : d.trials) t.last_metric = kNaN, t.metric_step = -1, t.status = TrialStatus::Running;
  const std::string page = format_html_report({d}, {}, HtmlReportOptions{});
  EXPECT_NE(page.find("no learning curves: /metrics has no finite value of eval_loss yet"), std::string::npos);
  EXPECT_NE(page.find("no best-so-far curve"), std::string::npos);
  EXPECT_NE(page.find("no parallel coordinates: no trial has a final result yet"), std::string::npos);
  EXPECT_EQ(count(page, "data-section=\"timeline\""), 1u);
}

}  // namespace
}  // namespace mpitune
