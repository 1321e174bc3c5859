// Text the single-file and the aggregated reports share: the column definitions under the cost
// table, trial counts by status, the jobs of a resumed experiment, and the words of a
// significance line. Private to src/report.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mpitune/report/test_comparison.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {
namespace report_sections {

// Every status, in the order the report lists them.
const std::vector<TrialStatus>& all_statuses();
std::map<TrialStatus, int> count_by_status(const ExperimentData& run);
// "completed 3, stopped 7" ("" when no trial).
std::string status_counts_text(const std::map<TrialStatus, int>& counts);

// The "- column: meaning" lines under the cost table. `aggregate`: the cells are medians with
// interquartile ranges over runs.
std::string column_definitions(bool aggregate);

// "- segments: 3 jobs: finished after 2 interruptions, 41 min of compute over 3 h 05 min of
// wall time\n" for an experiment that ran in more than one job (/segments); "" otherwise.
std::string segments_line(const ExperimentData& run);

// "45 s", "41 min", "3 h 05 min".
std::string duration_text(double seconds);

// The paragraph that opens the significance section.
std::string significance_intro(int resamples, uint64_t seed);

// "-0.152 [-0.21, -0.098], p = 0.0001: better than the reference, significant at 5% (200 test
// documents)" for a comparison; else why there is none.
std::string comparison_text(const TestComparison& c);

}  // namespace report_sections
}  // namespace mpitune
