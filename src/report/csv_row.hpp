// One CSV row of report/table_csv.hpp's tables, field by field, and the typed hyperparameter
// columns of a set of result files. Private to src/report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/store/result_store.hpp"

namespace mpitune::csv {

// How a hyperparameter's column is typed, by the rule of the file's /trials columns: text for
// choice/grid domains with a text value, integers for int ranges and choice/grid of integers,
// floats otherwise.
enum class ColumnKind { Integer, Float, Text };

struct HParamColumn {
  std::string name;
  ColumnKind kind = ColumnKind::Float;
};

// The union of the files' hyperparameters, in [space] order, first file first. A file with no
// /space (an ExperimentData built by hand) contributes its trials' hyperparameters, typed by
// their values. Two files that type one name differently get the wider kind (text over float
// over integer).
std::vector<HParamColumn> hparam_columns(const std::vector<const ExperimentData*>& files);

std::string header_line(const std::vector<std::string>& names);

class CsvRow {
 public:
  CsvRow& integer(int64_t x);
  CsvRow& real(double x);
  CsvRow& text(const std::string& s);
  // One field per column: the value of `hp` with that name, written as the column's kind; an
  // empty field when `hp` has none.
  CsvRow& hparams(const HParams& hp, const std::vector<HParamColumn>& columns);
  // The fields joined by commas, with the line's "\n".
  std::string line() const { return fields_ + "\n"; }

 private:
  void add(const std::string& field);
  std::string fields_;
  bool first_ = true;
};

}  // namespace mpitune::csv
