#include "mpitune/core/hparams.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "mpitune/core/error.hpp"

namespace mpitune {

double ParamValue::as_double() const {
  if (auto d = std::get_if<double>(&v_)) return *d;
  if (auto i = std::get_if<int64_t>(&v_)) return static_cast<double>(*i);
  throw InfraError("hyperparameter value '" + std::get<std::string>(v_) + "' is not a number");
}

int64_t ParamValue::as_int() const {
  if (auto i = std::get_if<int64_t>(&v_)) return *i;
  return static_cast<int64_t>(std::llround(as_double()));
}

const std::string& ParamValue::as_string() const {
  if (auto s = std::get_if<std::string>(&v_)) return *s;
  throw InfraError("hyperparameter value " + to_string() + " is not a string");
}

std::string ParamValue::to_string() const {
  if (auto s = std::get_if<std::string>(&v_)) return *s;
  if (auto i = std::get_if<int64_t>(&v_)) return std::to_string(*i);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(v_));
  return buf;
}

ParamValue ParamValue::parse(const std::string& text) {
  if (text.empty()) return ParamValue(text);
  const char* b = text.c_str();
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(b, &end, 10);
  if (errno == 0 && end && *end == '\0') return ParamValue(static_cast<int64_t>(i));
  errno = 0;
  const double d = std::strtod(b, &end);
  if (errno == 0 && end && *end == '\0') return ParamValue(d);
  return ParamValue(text);
}

void HParams::set(const std::string& name, ParamValue v) {
  for (auto& e : entries_)
    if (e.first == name) {
      e.second = std::move(v);
      return;
    }
  entries_.emplace_back(name, std::move(v));
}

const ParamValue* HParams::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.first == name) return &e.second;
  return nullptr;
}

const ParamValue& HParams::at(const std::string& name) const {
  if (const ParamValue* v = find(name)) return *v;
  throw InfraError("no hyperparameter named '" + name + "'");
}

std::string HParams::to_string() const {
  std::string out;
  for (const auto& e : entries_) {
    if (!out.empty()) out += ' ';
    std::string v = e.second.to_string();
    if (e.second.is_double()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4g", e.second.as_double());
      v = buf;
    }
    out += e.first + "=" + v;
  }
  return out;
}

}  // namespace mpitune
