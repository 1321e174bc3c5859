// The rows of the cost table: one per result file, with the reference's figures applied.
//
// Rows are keyed by file, not by experiment name: two runs of one config (same name, other
// seeds) are two rows. A file given twice (as a reference and as one of the files, or twice
// among the files: the same canonical path, or the same object when read from no file) is one
// row, marked reference when it was given as one, so it is neither printed nor counted twice.
// With several references (repeated reference runs, `--aggregate`), the reference's figures are
// their medians.
#pragma once

#include <string>
#include <vector>

#include "mpitune/report/run_cost.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct ReportRow {
  const ExperimentData* run = nullptr;
  std::string file;           // the shortest unambiguous form of its path ("-": not from a file)
  bool is_reference = false;
  RunCost cost;
  double ratio = kNaN;        // device-min to best / the reference's (1 for a lone reference)
  TargetReach reach;          // to the reference's best at full budget
};

struct ReportRows {
  std::vector<ReportRow> rows;  // references not among the files first, then the files in order
  bool have_reference = false;
  double reference_best = kNaN;                    // the target of `reach` (median over references)
  double reference_device_minutes_to_best = kNaN;  // the denominator of `ratio` (median)
};

ReportRows make_report_rows(const std::vector<ExperimentData>& runs,
                            const std::vector<const ExperimentData*>& references);

// Whether two experiments are one file: the same object, or paths with the same realpath (the
// paths as given when realpath fails, e.g. a file that is gone).
bool same_result_file(const ExperimentData& a, const ExperimentData& b);

// For each path, its shortest trailing part ("b.h5", "x/b.h5", ...) that no other path of the
// list ends with; "-" for an empty path.
std::vector<std::string> display_paths(const std::vector<std::string>& paths);

}  // namespace mpitune
