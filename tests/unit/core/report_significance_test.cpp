// The significance lines: a paired bootstrap of two experiments' test losses over the same test
// documents. A difference of exactly 1 per token on every document is significant; identical
// losses are not; different test documents are not compared.
#include <gtest/gtest.h>

#include "mpitune/core/error.hpp"
#include "mpitune/report/report.hpp"
#include "mpitune/report/test_comparison.hpp"
#include "report_fixtures.hpp"

namespace mpitune {
namespace {

using namespace report_fixtures;

TEST(ReportSignificance, AKnownLargeDifferenceIsSignificant) {
  ExperimentData reference = grid(), run = asha();
  add_final(reference, "best", 2.0, 20);
  add_final(run, "best", 1.0, 20);
  const TestComparison c = compare_test_losses(run, reference, 2000, 1);
  ASSERT_EQ(c.outcome, ComparisonOutcome::Compared);
  EXPECT_EQ(c.documents, 20);
  // Every document's loss sum is 10 lower: the difference is -1 per token on every resample.
  EXPECT_DOUBLE_EQ(c.paired.difference.estimate, -1.0);
  EXPECT_DOUBLE_EQ(c.paired.difference.low, -1.0);
  EXPECT_DOUBLE_EQ(c.paired.difference.high, -1.0);
  EXPECT_LT(c.paired.p_value, 0.05);
  EXPECT_TRUE(significant(c));
  EXPECT_EQ(verdict(c), "better than the reference, significant at 5%");
  // The other way round it is worse.
  EXPECT_EQ(verdict(compare_test_losses(reference, run, 2000, 1)), "worse than the reference, significant at 5%");
}

TEST(ReportSignificance, IdenticalLossesAreNoSignificantDifference) {
  ExperimentData reference = grid(), run = asha();
  add_final(reference, "best", 2.0, 20);
  add_final(run, "best", 2.0, 20);
  const TestComparison c = compare_test_losses(run, reference, 2000, 1);
  ASSERT_EQ(c.outcome, ComparisonOutcome::Compared);
  EXPECT_DOUBLE_EQ(c.paired.difference.estimate, 0.0);
  EXPECT_DOUBLE_EQ(c.paired.p_value, 1.0);
  EXPECT_FALSE(significant(c));
  EXPECT_EQ(verdict(c), "no significant difference");
}

TEST(ReportSignificance, TheRetrainRowIsComparedWhenPresent) {
  ExperimentData reference = grid(), run = asha();
  add_final(reference, "best", 2.0, 20);
  add_final(run, "best", 2.0, 20);     // as good as the reference ...
  add_final(run, "retrain", 3.0, 20);  // ... but the retrained configuration is worse
  const TestComparison c = compare_test_losses(run, reference, 500, 1);
  ASSERT_EQ(c.outcome, ComparisonOutcome::Compared);
  EXPECT_EQ(c.label, "retrain");
  EXPECT_EQ(c.reference_label, "best");
  EXPECT_DOUBLE_EQ(c.paired.difference.estimate, 1.0);
}

TEST(ReportSignificance, DifferentTestSetsAreNotCompared) {
  ExperimentData reference = grid(), fewer = asha(), other_tokens = asha();
  add_final(reference, "best", 2.0, 20);
  add_final(fewer, "best", 1.0, 19);
  add_final(other_tokens, "best", 1.0, 20);
  other_tokens.final_documents[7].tokens = 11;
  const TestComparison a = compare_test_losses(fewer, reference, 500, 1);
  EXPECT_EQ(a.outcome, ComparisonOutcome::TestSetsDiffer);
  EXPECT_EQ(a.detail, "the test sets differ (19 test documents against the reference's 20)");
  const TestComparison b = compare_test_losses(other_tokens, reference, 500, 1);
  EXPECT_EQ(b.outcome, ComparisonOutcome::TestSetsDiffer);
  EXPECT_EQ(b.detail, "the test sets differ (test document 7 has 11 tokens against the reference's 10)");
  EXPECT_EQ(verdict(b), "");
}

TEST(ReportSignificance, MissingFinalOrDocuments) {
  ExperimentData reference = grid(), none = asha(), no_documents = asha();
  add_final(reference, "best", 2.0, 20);
  add_final(no_documents, "best", 1.0, 20);
  no_documents.final_documents.clear();
  EXPECT_EQ(compare_test_losses(none, reference, 500, 1).outcome, ComparisonOutcome::NoTestEvaluation);
  EXPECT_EQ(compare_test_losses(reference, none, 500, 1).detail, "the reference has no test evaluation (/final)");
  EXPECT_EQ(compare_test_losses(no_documents, reference, 500, 1).outcome, ComparisonOutcome::NoDocuments);
}

TEST(ReportSignificance, OneLinePerExperimentInTheReportAndNoneWithoutAReference) {
  std::vector<ExperimentData> runs = {grid(), asha(), asha(), pbt()};
  runs[2].path = "results/asha-same.h5";
  add_final(runs[0], "best", 2.0, 20);
  add_final(runs[1], "best", 1.0, 20);
  add_final(runs[2], "best", 2.0, 20);
  add_final(runs[3], "best", 1.0, 12);
  const std::string md = format_report(runs, &runs[0], ReportFormat::Markdown);
  EXPECT_TRUE(contains(md, "## Test loss against the reference")) << md;
  EXPECT_TRUE(contains(md, "(10000 resamples, seed 9)")) << md;  // the report's default
  EXPECT_TRUE(contains(md, "- asha (asha.h5): -1 [-1, -1], p = 0.0001: better than the reference, significant at "
                           "5% (20 test documents, best vs the reference's best)"))
      << md;
  EXPECT_TRUE(contains(md, "- asha (asha-same.h5): +0 [+0, +0], p = 1: no significant difference")) << md;
  EXPECT_TRUE(contains(md, "- pbt (pbt.h5): the test sets differ (12 test documents against the reference's 20); "
                           "no paired comparison"))
      << md;
  EXPECT_EQ(occurrences(md, "- grid (grid.h5):"), 0u) << md;  // not against itself

  const CsvTable csv = parse_csv(format_report(runs, &runs[0], ReportFormat::Csv));
  EXPECT_EQ(std::stod(csv.cell(1, "test_diff_vs_reference")), -1.0);
  EXPECT_EQ(std::stod(csv.cell(1, "test_diff_p")), 0.0001);
  EXPECT_EQ(csv.cell(1, "test_comparison"), "better than the reference, significant at 5%");
  EXPECT_EQ(csv.cell(0, "test_comparison"), "");

  const std::string alone = format_report(runs, nullptr, ReportFormat::Markdown);
  EXPECT_FALSE(contains(alone, "Test loss against the reference")) << alone;
  EXPECT_FALSE(contains(alone, "significant")) << alone;
}

TEST(ReportSignificance, TheResamplesComeFromTheOptions) {
  std::vector<ExperimentData> runs = {grid(), asha()};
  add_final(runs[0], "best", 2.0, 20);
  add_final(runs[1], "best", 1.0, 20);
  ReportOptions options;
  options.bootstrap_resamples = 200;
  const std::string md = format_report(runs, {&runs[0]}, options);
  EXPECT_TRUE(contains(md, "(200 resamples, seed 9)")) << md;
  EXPECT_TRUE(contains(md, "p = 0.005")) << md;  // at least 1 / 200
  options.bootstrap_resamples = 0;  // no significance lines
  EXPECT_FALSE(contains(format_report(runs, {&runs[0]}, options), "Test loss against the reference"));
  options.aggregate = true;
  EXPECT_FALSE(contains(format_report(runs, {&runs[0]}, options), "Test loss against the reference"));
  options.aggregate = false;
  options.bootstrap_resamples = -1;
  EXPECT_THROW(format_report(runs, {&runs[0]}, options), ConfigError);
}

}  // namespace
}  // namespace mpitune
