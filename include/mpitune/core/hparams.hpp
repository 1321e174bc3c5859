// One trial's hyperparameters: an ordered list of name -> value, in the order of the [space].
//
// A value is a double, an integer or a string (a categorical choice). Values travel in messages
// and config text as strings written by to_string(), which round-trips exactly (%.17g).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mpitune {

class ParamValue {
 public:
  ParamValue() : v_(0.0) {}
  ParamValue(double d) : v_(d) {}
  ParamValue(int64_t i) : v_(i) {}
  ParamValue(int i) : v_(static_cast<int64_t>(i)) {}
  ParamValue(std::string s) : v_(std::move(s)) {}
  ParamValue(const char* s) : v_(std::string(s)) {}

  bool is_double() const { return std::holds_alternative<double>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_numeric() const { return !is_string(); }

  // Numeric value (ints widen); throws InfraError on a string.
  double as_double() const;
  int64_t as_int() const;  // doubles are rounded to nearest
  const std::string& as_string() const;  // throws on a number

  // Exact text: "%.17g" for doubles, decimal for ints, the string itself.
  std::string to_string() const;
  // Parses a number if the text is one (integer syntax -> int), else keeps the string.
  static ParamValue parse(const std::string& text);

  bool operator==(const ParamValue& o) const { return v_ == o.v_; }
  bool operator!=(const ParamValue& o) const { return !(*this == o); }

 private:
  std::variant<double, int64_t, std::string> v_;
};

class HParams {
 public:
  using Entry = std::pair<std::string, ParamValue>;

  void set(const std::string& name, ParamValue v);  // replaces or appends
  const ParamValue* find(const std::string& name) const;
  const ParamValue& at(const std::string& name) const;  // throws InfraError when missing
  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // "lr=0.001 weight_decay=0.05 batch_size=16", for logs and tables.
  std::string to_string() const;

  bool operator==(const HParams& o) const { return entries_ == o.entries_; }
  bool operator!=(const HParams& o) const { return !(*this == o); }

 private:
  std::vector<Entry> entries_;
};

}  // namespace mpitune
