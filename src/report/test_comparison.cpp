// Paired bootstrap of two experiments' test losses (see test_comparison.hpp).
#include "mpitune/report/test_comparison.hpp"

#include <algorithm>

namespace mpitune {
namespace {

const FinalRecord* last_final(const ExperimentData& run, const std::string& label) {
  const FinalRecord* found = nullptr;
  for (const auto& f : run.finals)
    if (f.label == label) found = &f;
  return found;
}

// The /final_documents rows of one label, in document order.
std::vector<FinalDocumentRecord> documents_of(const ExperimentData& run, const std::string& label) {
  std::vector<FinalDocumentRecord> docs;
  for (const auto& d : run.final_documents)
    if (d.label == label) docs.push_back(d);
  std::stable_sort(docs.begin(), docs.end(),
                   [](const FinalDocumentRecord& a, const FinalDocumentRecord& b) { return a.document < b.document; });
  return docs;
}

// "" when the two cover the same documents with the same token counts, else how they differ.
std::string how_documents_differ(const std::vector<FinalDocumentRecord>& a, const std::vector<FinalDocumentRecord>& b) {
  if (a.size() != b.size())
    return std::to_string(a.size()) + " test documents against the reference's " + std::to_string(b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].document != b[i].document)
      return "test document " + std::to_string(a[i].document) + " is not among the reference's";
    if (a[i].tokens != b[i].tokens)
      return "test document " + std::to_string(a[i].document) + " has " + std::to_string(a[i].tokens) +
             " tokens against the reference's " + std::to_string(b[i].tokens);
  }
  return "";
}

}  // namespace

const FinalRecord* test_row(const ExperimentData& run) {
  const FinalRecord* row = last_final(run, "retrain");
  return row ? row : last_final(run, "best");
}

TestComparison compare_test_losses(const ExperimentData& run, const ExperimentData& reference, int resamples,
                                   uint64_t seed) {
  TestComparison c;
  const FinalRecord* mine = test_row(run);
  const FinalRecord* theirs = test_row(reference);
  if (!mine || !theirs) {
    c.outcome = ComparisonOutcome::NoTestEvaluation;
    c.detail = !mine && !theirs ? "neither has a test evaluation (/final)"
               : !mine          ? "no test evaluation (/final)"
                                : "the reference has no test evaluation (/final)";
    return c;
  }
  c.label = mine->label;
  c.reference_label = theirs->label;
  const auto a = documents_of(run, mine->label);
  const auto b = documents_of(reference, theirs->label);
  if (a.empty() || b.empty()) {
    c.outcome = ComparisonOutcome::NoDocuments;
    c.detail = a.empty() ? "no per-document test losses (/final_documents)"
                         : "the reference has no per-document test losses (/final_documents)";
    return c;
  }
  const std::string differ = how_documents_differ(a, b);
  int64_t tokens_total = 0;
  for (const auto& d : a) tokens_total += d.tokens;
  if (!differ.empty() || tokens_total <= 0) {
    c.outcome = ComparisonOutcome::TestSetsDiffer;
    c.detail = "the test sets differ (" + (differ.empty() ? std::string("no counted test token") : differ) + ")";
    return c;
  }
  std::vector<double> a_sums, b_sums;
  std::vector<int64_t> tokens;
  for (size_t i = 0; i < a.size(); ++i) {
    a_sums.push_back(a[i].loss_sum);
    b_sums.push_back(b[i].loss_sum);
    tokens.push_back(a[i].tokens);
  }
  c.outcome = ComparisonOutcome::Compared;
  c.documents = static_cast<int64_t>(a.size());
  c.resamples = resamples;
  c.paired = paired_bootstrap(a_sums, b_sums, tokens, resamples, seed);
  return c;
}

bool significant(const TestComparison& c) {
  return c.outcome == ComparisonOutcome::Compared && c.paired.difference.resamples > 0 && c.paired.p_value < 0.05;
}

std::string verdict(const TestComparison& c) {
  if (c.outcome != ComparisonOutcome::Compared) return "";
  if (!significant(c)) return "no significant difference";
  return c.paired.difference.estimate < 0 ? "better than the reference, significant at 5%"
                                          : "worse than the reference, significant at 5%";
}

}  // namespace mpitune
