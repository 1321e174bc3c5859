// Cell formatting of the report tables (see report_cells.hpp).
#include "report_cells.hpp"

#include <cmath>
#include <cstdio>

#include "mpitune/report/table_csv.hpp"

namespace mpitune {
namespace report_cells {

std::string num(double x, const char* format) {
  if (std::isnan(x)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string md(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string csv(const std::string& s) {
  return s.find_first_of(",\"\n") == std::string::npos ? s : csv_text(s);
}

std::string test_loss_cell(const RunCost& c) {
  if (std::isnan(c.test_loss)) return "-";
  std::string s = num(c.test_loss, "%.5g");
  if (!std::isnan(c.test_ci_low) && !std::isnan(c.test_ci_high))
    s += " [" + num(c.test_ci_low, "%.5g") + ", " + num(c.test_ci_high, "%.5g") + "]";
  return s;
}

}  // namespace report_cells
}  // namespace mpitune
