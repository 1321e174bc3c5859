// CSV fields and rows of the report's tables (see csv_row.hpp and report/table_csv.hpp).
#include "csv_row.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include "mpitune/core/error.hpp"
#include "mpitune/report/table_csv.hpp"

namespace mpitune {

std::string csv_float(double x) {
  if (std::isnan(x)) return "";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  // Shortest text that parses back to the same double (C++17 <charconv>).
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  if (ec != std::errc()) throw InfraError("csv_float: to_chars failed");
  std::string s(buf, end);
  // "2" would read back as an integer column: keep floats recognisably floats.
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string csv_text(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

namespace csv {
namespace {

ColumnKind domain_kind(const Domain& d) {
  bool any_text = false, all_int = !d.values.empty();
  for (const auto& v : d.values) {
    any_text = any_text || v.is_string();
    all_int = all_int && v.is_int();
  }
  if (d.is_categorical() && any_text) return ColumnKind::Text;
  if (d.kind == DomainKind::Int || (d.is_categorical() && all_int)) return ColumnKind::Integer;
  return ColumnKind::Float;
}

ColumnKind value_kind(const ParamValue& v) {
  return v.is_string() ? ColumnKind::Text : v.is_int() ? ColumnKind::Integer : ColumnKind::Float;
}

void add_column(std::vector<HParamColumn>& columns, const std::string& name, ColumnKind kind) {
  for (auto& c : columns)
    if (c.name == name) {
      if (static_cast<int>(kind) > static_cast<int>(c.kind)) c.kind = kind;
      return;
    }
  columns.push_back({name, kind});
}

}  // namespace

std::vector<HParamColumn> hparam_columns(const std::vector<const ExperimentData*>& files) {
  std::vector<HParamColumn> columns;
  for (const ExperimentData* d : files) {
    if (d->info.space.size() > 0) {
      for (const auto& dom : d->info.space.domains()) add_column(columns, dom.name, domain_kind(dom));
      continue;
    }
    for (const auto& t : d->trials)
      for (const auto& [name, v] : t.hparams.entries()) add_column(columns, name, value_kind(v));
  }
  return columns;
}

std::string header_line(const std::vector<std::string>& names) {
  // Names are written bare unless they need quotes (a comma, a quote, a line break).
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? "," : "") + (names[i].find_first_of(",\"\r\n") == std::string::npos ? names[i] : csv_text(names[i]));
  return out + "\n";
}

void CsvRow::add(const std::string& field) {
  if (!first_) fields_ += ',';
  fields_ += field;
  first_ = false;
}

CsvRow& CsvRow::integer(int64_t x) {
  add(std::to_string(x));
  return *this;
}

CsvRow& CsvRow::real(double x) {
  add(csv_float(x));
  return *this;
}

CsvRow& CsvRow::text(const std::string& s) {
  add(csv_text(s));
  return *this;
}

CsvRow& CsvRow::hparams(const HParams& hp, const std::vector<HParamColumn>& columns) {
  for (const auto& c : columns) {
    const ParamValue* v = hp.find(c.name);
    if (!v) {
      add("");
    } else if (v->is_string() || c.kind == ColumnKind::Text) {
      text(v->to_string());
    } else if (c.kind == ColumnKind::Float || (v->is_double() && std::floor(v->as_double()) != v->as_double())) {
      real(v->as_double());
    } else {
      integer(v->as_int());
    }
  }
  return *this;
}

}  // namespace csv
}  // namespace mpitune
