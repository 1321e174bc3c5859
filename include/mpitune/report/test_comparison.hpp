// Is one experiment's best configuration better on the test split than the reference's, or is
// the difference noise? A paired bootstrap over the test documents (core/bootstrap.hpp).
//
// Paired, because both models were evaluated on the same documents: resampling documents keeps
// each document's two losses together, so the variation between documents (some text is simply
// harder) cancels and a small but consistent difference can be told from noise. That needs the
// same test documents on both sides, checked by their per-document token counts; when they
// differ (another corpus, another split) there is no paired comparison and the report says so.
#pragma once

#include <cstdint>
#include <string>

#include "mpitune/core/bootstrap.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {

// The report's default: 10000 resamples from a fixed seed, so the same files give the same lines.
constexpr int kReportBootstrapResamples = 10000;
constexpr uint64_t kReportBootstrapSeed = 9;

enum class ComparisonOutcome {
  Compared,
  NoTestEvaluation,  // a side has no /final "retrain" or "best" row
  NoDocuments,       // a side has that row but no /final_documents for it
  TestSetsDiffer,    // the documents or their token counts differ
};

struct TestComparison {
  ComparisonOutcome outcome = ComparisonOutcome::NoTestEvaluation;
  std::string detail;           // why there is no comparison, in words ("" when compared)
  std::string label;            // the /final rows compared ("retrain" or "best") ...
  std::string reference_label;  // ... of the run and of the reference
  int64_t documents = 0;
  int resamples = 0;
  PairedComparison paired;      // test loss of the run - the reference's
};

// The test row of an experiment's best configuration: "retrain" when present, else "best"; null
// when neither.
const FinalRecord* test_row(const ExperimentData& run);

// run - reference on their test rows' documents.
TestComparison compare_test_losses(const ExperimentData& run, const ExperimentData& reference, int resamples,
                                   uint64_t seed);

// Significance at 5%: p < 0.05.
bool significant(const TestComparison& c);

// "better than the reference, significant at 5%" | "worse than the reference, significant at 5%" |
// "no significant difference" (lower test loss is better); "" when not compared.
std::string verdict(const TestComparison& c);

}  // namespace mpitune
