// The view of `mpitune status` (report/status_table.hpp): trials sorted best first in the
// experiment's mode with running ones among them and metric-less ones last, the cut to a
// terminal's height or --rows with its "... N more" line, NaN metrics, and a file with no
// evaluation yet. Expected orders and counts are worked out by hand in the comments.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "mpitune/report/status_table.hpp"
#include "report_fixtures.hpp"

namespace mpitune {
namespace {

using namespace report_fixtures;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

StatusViewOptions cut(size_t max_rows, size_t max_lines) {
  StatusViewOptions o;
  o.max_rows = max_rows;
  o.max_lines = max_lines;
  return o;
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<TrialId> ids(const std::vector<const TrialRecord*>& trials) {
  std::vector<TrialId> out;
  for (const auto* t : trials) out.push_back(t->id);
  return out;
}

// Best values: trial 0 2.0 (completed), 1 1.5 (running), 2 none yet (running), 3 1.8
// (stopped), 4 1.5 (completed: ties with 1, the lower id first).
ExperimentData live() {
  ExperimentData d = experiment("live", "results/live.h5", "asha", 2, 100, 1000);
  HParams hp;
  hp.set("lr", 0.00125);
  hp.set("opt", "adam");
  d.trials = {trial(0, TrialStatus::Completed, 2.0, 100, hp), trial(1, TrialStatus::Running, 1.5, 30, hp),
              trial(2, TrialStatus::Running, kNaN, 5, hp), trial(3, TrialStatus::Stopped, 1.8, 10, hp),
              trial(4, TrialStatus::Completed, 1.5, 100, hp)};
  d.trials[1].group = 0;
  d.metrics = {metric(1, 10, 1010, 2.5), metric(1, 30, 1030, 1.5)};
  d.summary.status = "running";
  d.summary.elapsed_s = 75;
  return d;
}

TEST(StatusView, SortsBestFirstRunningIncludedNoValueLast) {
  ExperimentData d = live();
  EXPECT_EQ(ids(trials_by_metric(d)), (std::vector<TrialId>{1, 4, 3, 0, 2}));
  d.info.mode = "max";
  EXPECT_EQ(ids(trials_by_metric(d)), (std::vector<TrialId>{0, 3, 1, 4, 2}));
}

TEST(StatusView, SummaryAndTable) {
  const std::vector<std::string> l = lines_of(format_status_view(live()));
  ASSERT_EQ(l.size(), kStatusSummaryLines + 1 + 5);
  EXPECT_NE(l[0].find("live (asha + random): running"), std::string::npos) << l[0];
  EXPECT_NE(l[1].find("trials 5: 2 running, 2 completed, 1 stopped"), std::string::npos) << l[1];
  // Trial 1's best 1.5 was reported at step 30.
  EXPECT_NE(l[2].find("best eval_loss 1.5 (trial 1, step 30)"), std::string::npos) << l[2];
  EXPECT_NE(l[2].find("lr=0.00125"), std::string::npos) << l[2];
  EXPECT_EQ(l[3].find("trial"), 0u) << l[3];
  for (const char* h : {"status", "lr", "opt", "step", "last eval_loss", "best eval_loss", "group"})
    EXPECT_NE(l[3].find(h), std::string::npos) << h;
  // Row of trial 1: running on group 0 at step 30; trial 2 has no value: "-" and no group.
  EXPECT_EQ(words(l[4]), (std::vector<std::string>{"1", "running", "0.00125", "adam", "30", "1.5", "1.5", "0"}));
  EXPECT_EQ(words(l[8]), (std::vector<std::string>{"2", "running", "0.00125", "adam", "5", "-", "-", "-"}));
  // Columns line up: every row is as long as the header or shorter only by trailing blanks.
  for (size_t i = 4; i < l.size(); ++i) EXPECT_LE(l[i].size(), l[3].size() + 2) << l[i];
}

TEST(StatusView, ALiveFileCountsTimeUpToItsNewestRow) {
  ExperimentData d = live();
  // /summary last rewritten 5 s in; the newest row is trial 1's report at 1030, 30 s after the
  // start: 30 s elapsed, 2 devices x 30 s / 60 = 1.0 device-min.
  d.summary.elapsed_s = 5;
  EXPECT_NE(format_status_view(d).find("running, 30s elapsed, 1.0 device-min"), std::string::npos)
      << format_status_view(d);
  StatusViewOptions noted;
  noted.status_note = "but its job is gone";
  EXPECT_NE(format_status_view(d, noted).find(": running (but its job is gone), 30s"), std::string::npos);
  // Finished: /summary's figures (75 s: 2 x 75 / 60 = 2.5 device-min), whatever the rows say.
  d.summary.status = "finished";
  d.summary.elapsed_s = 75;
  EXPECT_NE(format_status_view(d).find("finished, 1m15s elapsed, 2.5 device-min"), std::string::npos)
      << format_status_view(d);
}

TEST(StatusView, CutToATerminalHeightSaysHowManyMore) {
  ExperimentData d = live();
  for (int i = 5; i < 40; ++i) d.trials.push_back(trial(i, TrialStatus::Stopped, 3.0 + i, 10));
  // 40 trials in 12 lines: 3 summary + 1 header + 7 rows + 1 "... 33 more".
  const std::vector<std::string> l = lines_of(format_status_view(d, cut(0, 12)));
  ASSERT_EQ(l.size(), 12u);
  EXPECT_EQ(l.back(), "... 33 more");
  EXPECT_EQ(words(l[4])[0], "1");  // still best first
  // --rows 3: three rows and the cut line, whatever the height.
  const std::vector<std::string> r = lines_of(format_status_view(d, cut(3, 0)));
  ASSERT_EQ(r.size(), kStatusSummaryLines + 1 + 3 + 1);
  EXPECT_EQ(r.back(), "... 37 more");
  // All rows fit: no cut line.
  const std::vector<std::string> all = lines_of(format_status_view(d, cut(0, 100)));
  EXPECT_EQ(all.size(), kStatusSummaryLines + 1 + 40);
  EXPECT_EQ(all.back().find("..."), std::string::npos);
  // A terminal too small for any row still gets the summary, the header and the count.
  const std::vector<std::string> tiny = lines_of(format_status_view(d, cut(0, 3)));
  EXPECT_EQ(tiny.back(), "... 40 more");
}

TEST(StatusView, NoEvaluationYet) {
  ExperimentData d = experiment("fresh", "results/fresh.h5", "pbt", 2, 100, 1000);
  d.trials = {trial(0, TrialStatus::Running, kNaN, 0), trial(1, TrialStatus::Running, kNaN, 0)};
  d.trials[0].best_metric = kNaN;
  d.trials[1].best_metric = kNaN;
  d.summary.status = "running";
  const std::vector<std::string> l = lines_of(format_status_view(d));
  ASSERT_EQ(l.size(), kStatusSummaryLines + 1 + 2);
  EXPECT_NE(l[2].find("no result yet"), std::string::npos) << l[2];
  EXPECT_EQ(words(l[4]), (std::vector<std::string>{"0", "running", "0", "-", "-", "-"}));
}

TEST(StatusView, NoTrialsAtAll) {
  ExperimentData d = experiment("empty", "results/empty.h5", "asha", 2, 100, 1000);
  const std::vector<std::string> l = lines_of(format_status_view(d));
  ASSERT_EQ(l.size(), kStatusSummaryLines);
  EXPECT_NE(l[1].find("trials 0"), std::string::npos) << l[1];
}

}  // namespace
}  // namespace mpitune
