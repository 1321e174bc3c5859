// `mpitune report --aggregate`: repeated runs of one experiment as one row of medians and
// interquartile ranges (see report.hpp). Private to src/report.
#pragma once

#include <string>

#include "mpitune/report/report.hpp"
#include "mpitune/report/report_rows.hpp"

namespace mpitune {

// Groups the rows by (reference or not, experiment name), in the order the rows first list them.
std::string format_aggregate_report(const ReportRows& rows, const ReportOptions& options);

}  // namespace mpitune
