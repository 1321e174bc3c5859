// How the report writes one value into a Markdown or CSV cell. Private to src/report: the
// single-run and the aggregated tables must print numbers the same way.
#pragma once

#include <string>

#include "mpitune/report/run_cost.hpp"

namespace mpitune {
namespace report_cells {

// printf-style formatting of one number; "" for NaN so callers choose how to show "undefined".
std::string num(double x, const char* format);
// "-" for "".
std::string or_dash(const std::string& s);
// A Markdown table cell: '|' escaped, newlines as spaces.
std::string md(const std::string& s);
// The test loss of a run with its 95% interval: "0.41234 [0.40011, 0.42502]"; "-" without one.
std::string test_loss_cell(const RunCost& c);
// A CSV cell: quoted (RFC 4180) when it holds a comma, quote or newline.
std::string csv(const std::string& s);

}  // namespace report_cells
}  // namespace mpitune
