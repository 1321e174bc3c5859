// The cost of an experiment that ran in several jobs (/segments): elapsed and device time are
// summed over the jobs, each with its own devices, and the time between jobs (a requeued
// job's wait) is not compute: it is left out of the time to best, the device-minutes to it and
// the time to the reference's best. The report says how many jobs there were. Every figure
// below is worked out by hand in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "mpitune/report/report.hpp"
#include "mpitune/report/run_cost.hpp"
#include "report_fixtures.hpp"

namespace mpitune {
namespace {

using namespace report_fixtures;

SegmentRecord segment(int64_t index, double start, double elapsed_s, int devices, const std::string& status) {
  SegmentRecord s;
  s.index = index;
  s.start_time = start;
  s.elapsed_s = elapsed_s;
  s.end_time = status == "aborted" ? kNaN : start + elapsed_s;
  s.devices = devices;
  s.status = status;
  return s;
}

// Started at 1000 on 2 devices. Job 0 ran 600 s (to 1600) and was interrupted; job 1 began an
// hour later, at 5200, on 4 devices, ran 900 s and finished. The best trial's final result is
// reported at 5500, 300 s into job 1: 600 + 300 = 900 s of compute to best (not 4500 s of wall
// time), 2 x 600 / 60 + 4 x 300 / 60 = 20 + 20 = 40 device-min. In total 2 x 600 / 60 +
// 4 x 900 / 60 = 20 + 60 = 80 device-min over 1500 s of compute (summary's elapsed_s says
// 4400 s of wall time: not used when there are segments).
ExperimentData resumed() {
  ExperimentData d = experiment("resumed", "results/resumed.h5", "asha", 2, 100, 1000);
  d.trials = {trial(0, TrialStatus::Completed, 2.0, 100), trial(1, TrialStatus::Stopped, 1.8, 30)};
  d.metrics = {metric(1, 30, 1200, 1.8), metric(0, 50, 1500, 2.4), metric(0, 100, 5500, 2.0)};
  d.segments = {segment(0, 1000, 600, 2, "interrupted"), segment(1, 5200, 900, 4, "finished")};
  d.summary.status = "finished";
  d.summary.elapsed_s = 5100;
  return d;
}

TEST(ReportSegments, TimeToBestAfterAGapLeavesTheGapOut) {
  const RunCost c = compute_run_cost(resumed());
  EXPECT_EQ(c.best_trial, 0);
  EXPECT_DOUBLE_EQ(c.time_to_best_s, 900.0);
  EXPECT_DOUBLE_EQ(c.device_minutes_to_best, 40.0);
  EXPECT_DOUBLE_EQ(c.device_minutes_total, 80.0);
}

TEST(ReportSegments, ATimeBeforeTheGapIsAsWithoutSegments) {
  const ExperimentData d = resumed();
  const ActiveTime a = active_time(d, 1500);  // in job 0: 500 s, 2 x 500 / 60 device-min
  EXPECT_DOUBLE_EQ(a.seconds, 500.0);
  EXPECT_DOUBLE_EQ(a.device_minutes, 2 * 500.0 / 60.0);
  // A reference's best of 2.0 is first matched by trial 1's 1.8 at 1200: 200 s, no gap yet.
  const TargetReach r = time_to_reach(d, 2.0);
  ASSERT_TRUE(r.reached);
  EXPECT_DOUBLE_EQ(r.time_s, 200.0);
  EXPECT_DOUBLE_EQ(r.device_minutes, 2 * 200.0 / 60.0);
}

TEST(ReportSegments, ATargetReachedAfterTheGapLeavesItOutToo) {
  ExperimentData d = resumed();
  // 1.7 at 5400, in job 1, is the first report at least as good as 1.75: 5400 - 1000 less the
  // 3600 s gap (5200 - 1000 - 600) = 800 s; 2 x 600 / 60 + 4 x 200 / 60 device-min.
  d.metrics.push_back(metric(0, 90, 5400, 1.7));
  const TargetReach r = time_to_reach(d, 1.75);
  ASSERT_TRUE(r.reached);
  EXPECT_DOUBLE_EQ(r.time_s, 800.0);
  EXPECT_NEAR(r.device_minutes, 20.0 + 4 * 200.0 / 60.0, 1e-9);
}

TEST(ReportSegments, AJobThatDiedWithoutAWordCountsItsLastElapsedAndDevicesFallBack) {
  ExperimentData d = resumed();
  // Job 0 died at about 1600 having last written elapsed 550 (a flush interval before); its
  // devices were not recorded (0): the experiment's 2. Job 1 starts at 5200: the gap is
  // 5200 - 1000 - 550 = 3650 s, so the best at 5500 is 5500 - 1000 - 3650 = 850 s in, of which
  // 550 in job 0 (2 devices) and 300 in job 1 (4): 2 x 550 / 60 + 4 x 300 / 60 = 18.33 + 20.
  d.segments[0] = segment(0, 1000, 550, 0, "aborted");
  const RunCost c = compute_run_cost(d);
  EXPECT_DOUBLE_EQ(c.time_to_best_s, 850.0);
  EXPECT_NEAR(c.device_minutes_to_best, 2 * 550.0 / 60.0 + 20.0, 1e-9);
  EXPECT_NEAR(c.device_minutes_total, 2 * 550.0 / 60.0 + 60.0, 1e-9);
}

TEST(ReportSegments, OverlappingSegmentsAddNoNegativeGap) {
  ExperimentData d = resumed();
  // Job 1 starts before job 0's elapsed time is over (clocks of two hosts): no gap, and the
  // time to best is the plain 4500 s from the start.
  d.segments[1].start_time = 1500;
  const ActiveTime a = active_time(d, 5500);
  EXPECT_DOUBLE_EQ(a.seconds, 4500.0);
  // 500 s charged to job 0 (up to job 1's start), 4000 s to job 1.
  EXPECT_DOUBLE_EQ(a.device_minutes, 2 * 500.0 / 60.0 + 4 * 4000.0 / 60.0);
}

TEST(ReportSegments, TheReportSaysHowManyJobsRanOnlyWhenMoreThanOne) {
  ExperimentData three = resumed();
  // 3 jobs: an interruption, an abort, then finished; 600 + 900 + 960 s = 2460 s = 41 min of
  // compute; wall time from the first start (1000) to the last end (11140 + 960 = 12100):
  // 11100 s = 185 min = 3 h 05 min.
  three.segments[1].status = "aborted";
  three.segments.push_back(segment(2, 11140, 960, 4, "finished"));
  const std::string md = format_report({three}, nullptr, ReportFormat::Markdown);
  EXPECT_NE(md.find("- segments: 3 jobs: finished after 2 interruptions (1 of them aborted), 41 min of compute "
                    "over 3 h 05 min of wall time\n"),
            std::string::npos)
      << md;

  const JobsSummary j = summarize_jobs(three);
  EXPECT_EQ(j.jobs, 3);
  EXPECT_EQ(j.interrupted, 1);
  EXPECT_EQ(j.aborted, 1);
  EXPECT_DOUBLE_EQ(j.compute_s, 2460.0);
  EXPECT_DOUBLE_EQ(j.wall_s, 11100.0);

  ExperimentData one = resumed();
  one.segments.resize(1);
  EXPECT_EQ(format_report({one}, nullptr, ReportFormat::Markdown).find("- segments:"), std::string::npos);
  ExperimentData none = resumed();
  none.segments.clear();
  EXPECT_EQ(format_report({none}, nullptr, ReportFormat::Markdown).find("- segments:"), std::string::npos);
}

TEST(ReportSegments, WithoutSegmentsTheGapIsCountedAsBefore) {
  ExperimentData d = resumed();
  d.segments.clear();
  const RunCost c = compute_run_cost(d);
  EXPECT_DOUBLE_EQ(c.time_to_best_s, 4500.0);                 // 5500 - 1000
  EXPECT_DOUBLE_EQ(c.device_minutes_to_best, 2 * 4500.0 / 60.0);  // the experiment's 2 devices
  EXPECT_DOUBLE_EQ(c.device_minutes_total, 2 * 5100.0 / 60.0);    // /summary's elapsed
}

}  // namespace
}  // namespace mpitune
