// The search space: parsing "kind(args)" specs, sampling, and the unit-interval mapping.
//
// Every parse error names "space.<name>" and says how to fix it, because the space is the part
// of a config users edit most and a vague "bad value" would send them reading source code.
#include "mpitune/search/space.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "mpitune/core/error.hpp"
#include "mpitune/core/ini.hpp"

namespace mpitune {

std::optional<double> parse_finite_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(s.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(d)) return std::nullopt;
  return d;
}

namespace {

// Beyond 2^53 a double no longer holds every integer, so int() bounds stop being exact.
constexpr double kMaxExactInt = 9007199254740992.0;

const char* kKnownKinds = "uniform(low, high), loguniform(low, high), int(low, high), choice(a, b, ...), grid(a, b, ...)";

std::string field_of(const std::string& name) { return "space." + name; }

// The shortest "%g"-style text that reads back as the same double, so describe() round-trips
// without printing 17 digits for 1e-4.
std::string format_double(double x) {
  char buf[40];
  for (int prec = 6; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

bool is_quoted(const std::string& s) {
  return s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front();
}

// Optional sign then digits only: "16", "-3". "1e3" and "2.0" are decimals, not integer literals.
bool is_integer_literal(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

std::optional<double> to_number(const std::string& s) { return parse_finite_number(s); }

// Splits "a, 'b, c', d" at top-level commas; quotes protect commas inside strings.
std::vector<std::string> split_args(const std::string& name, const std::string& inside) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (char c : inside) {
    if (quote) {
      if (c == quote) quote = 0;
      cur += c;
    } else if (c == '"' || c == '\'') {
      quote = c;
      cur += c;
    } else if (c == ',') {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (quote)
    throw ConfigError(field_of(name), std::string("unterminated quote ") + quote,
                      "close every quoted choice, e.g. choice('adam', 'sgd')");
  out.push_back(trim(cur));
  // "choice()" is one empty argument: report it as no arguments.
  if (out.size() == 1 && out[0].empty()) out.clear();
  return out;
}

double parse_bound(const std::string& name, const std::string& kind, const char* which,
                   const std::string& text) {
  const auto d = to_number(text);
  if (!d)
    throw ConfigError(field_of(name), kind + " " + which + " bound '" + text + "' is not a number",
                      "write a number such as 0.001 or 1e-3");
  return *d;
}

Domain parse_range(const std::string& name, DomainKind kind, const std::vector<std::string>& args) {
  const std::string k = domain_kind_name(kind);
  if (args.size() != 2)
    throw ConfigError(field_of(name),
                      k + " takes 2 arguments (low, high), got " + std::to_string(args.size()),
                      "write e.g. " + k + (kind == DomainKind::Int ? "(2, 6)" : "(0.001, 0.1)"));
  Domain d;
  d.name = name;
  d.kind = kind;
  d.low = parse_bound(name, k, "lower", args[0]);
  d.high = parse_bound(name, k, "upper", args[1]);
  const std::string range = "[" + args[0] + ", " + args[1] + "]";
  switch (kind) {
    case DomainKind::LogUniform:
      if (d.low <= 0)
        throw ConfigError(field_of(name), "loguniform needs low > 0, got " + args[0],
                          "use a positive lower bound such as 1e-5, or uniform(...) for ranges that include 0");
      [[fallthrough]];
    case DomainKind::Uniform:
      if (d.low >= d.high)
        throw ConfigError(field_of(name), "empty or inverted range " + range,
                          "write the smaller bound first and make low < high");
      break;
    case DomainKind::Int:
      for (double b : {d.low, d.high})
        if (b != std::floor(b) || std::fabs(b) > kMaxExactInt)
          throw ConfigError(field_of(name), "int bounds must be whole numbers, got " + range,
                            "write e.g. int(2, 6)");
      if (d.low > d.high)
        throw ConfigError(field_of(name), "inverted range " + range,
                          "write the smaller bound first (both bounds are included)");
      break;
    default:
      break;
  }
  return d;
}

// choice/grid values: all integer literals -> ints; all numbers -> doubles; else strings.
// A quoted value is always a string, so choice('1', '2') stays text.
Domain parse_values(const std::string& name, DomainKind kind, const std::vector<std::string>& args) {
  const std::string k = domain_kind_name(kind);
  if (args.empty())
    throw ConfigError(field_of(name), k + " has no values", "list at least one, e.g. " + k + "(8, 16, 32)");
  bool all_int = true, all_num = true;
  for (const auto& a : args) {
    if (a.empty())
      throw ConfigError(field_of(name), k + " has an empty value", "remove the extra comma");
    if (is_quoted(a)) {
      all_int = all_num = false;
      continue;
    }
    const auto num = to_number(a);
    all_num &= num.has_value();
    all_int &= num.has_value() && is_integer_literal(a) && std::fabs(*num) <= kMaxExactInt;
  }
  Domain d;
  d.name = name;
  d.kind = kind;
  for (const auto& a : args) {
    if (all_int) d.values.emplace_back(static_cast<int64_t>(std::strtoll(a.c_str(), nullptr, 10)));
    else if (all_num) d.values.emplace_back(*to_number(a));
    else d.values.emplace_back(is_quoted(a) ? a.substr(1, a.size() - 2) : a);
  }
  for (size_t i = 0; i < d.values.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (d.values[i] == d.values[j])
        throw ConfigError(field_of(name), "duplicate value " + d.values[i].to_string() + " in " + k,
                          "list each value once");
  return d;
}

// A categorical value's text in describe(): numbers so they re-parse as the same type, strings
// quoted only where they would otherwise read back as something else.
std::string describe_value(const ParamValue& v) {
  if (v.is_int()) return v.to_string();
  if (v.is_double()) {
    std::string s = format_double(v.as_double());
    if (is_integer_literal(s)) s += ".0";  // keep 1.0 a double on re-parse
    return s;
  }
  const std::string& s = v.as_string();
  const bool plain = !s.empty() && !to_number(s) && s == trim(s) &&
                     s.find_first_of(",'\"()") == std::string::npos;
  if (plain) return s;
  return s.find('"') == std::string::npos ? "\"" + s + "\"" : "'" + s + "'";
}

size_t index_of(const Domain& d, const ParamValue& v) {
  for (size_t i = 0; i < d.values.size(); ++i)
    if (d.values[i] == v) return i;
  // An int 16 and a double 16.0 name the same choice (values that went through text).
  if (v.is_numeric())
    for (size_t i = 0; i < d.values.size(); ++i)
      if (d.values[i].is_numeric() && d.values[i].as_double() == v.as_double()) return i;
  throw InfraError("value " + v.to_string() + " is not one of the choices of " + d.name + " " + d.describe());
}

}  // namespace

const char* domain_kind_name(DomainKind k) {
  switch (k) {
    case DomainKind::Uniform: return "uniform";
    case DomainKind::LogUniform: return "loguniform";
    case DomainKind::Int: return "int";
    case DomainKind::Choice: return "choice";
    case DomainKind::Grid: return "grid";
  }
  return "?";
}

ParamValue Domain::sample(Rng& rng) const {
  switch (kind) {
    case DomainKind::Uniform:
      return rng.uniform(low, high);
    case DomainKind::LogUniform:
      // exp(log(x)) may land one ulp outside the bounds; keep the documented range.
      return std::clamp(std::exp(rng.uniform(std::log(low), std::log(high))), low, high);
    case DomainKind::Int:
      return rng.integer(static_cast<int64_t>(low), static_cast<int64_t>(high));
    case DomainKind::Choice:
    case DomainKind::Grid:
      MPITUNE_CHECK(!values.empty(), "domain " + name + " has no values");
      return values[static_cast<size_t>(rng.integer(0, static_cast<int64_t>(values.size()) - 1))];
  }
  return ParamValue();
}

double Domain::to_unit(const ParamValue& v) const {
  switch (kind) {
    case DomainKind::Uniform:
      return (v.as_double() - low) / (high - low);
    case DomainKind::LogUniform:
      return (std::log(v.as_double()) - std::log(low)) / (std::log(high) - std::log(low));
    case DomainKind::Int:
      // int(3, 3) is a constant: put it in the middle so kernels treat it symmetrically.
      return high > low ? (v.as_double() - low) / (high - low) : 0.5;
    case DomainKind::Choice:
    case DomainKind::Grid:
      return static_cast<double>(index_of(*this, v));
  }
  return 0;
}

ParamValue Domain::from_unit(double u) const {
  if (is_categorical()) {
    MPITUNE_CHECK(!values.empty(), "domain " + name + " has no values");
    const double last = static_cast<double>(values.size() - 1);
    const double i = std::isnan(u) ? 0.0 : std::clamp(std::round(u), 0.0, last);
    return values[static_cast<size_t>(i)];
  }
  u = std::isnan(u) ? 0.0 : std::clamp(u, 0.0, 1.0);
  switch (kind) {
    case DomainKind::Uniform:
      return std::clamp(low + u * (high - low), low, high);
    case DomainKind::LogUniform:
      return std::clamp(std::exp(std::log(low) + u * (std::log(high) - std::log(low))), low, high);
    case DomainKind::Int:
      return static_cast<int64_t>(std::llround(low + u * (high - low)));
    default:
      return ParamValue();
  }
}

ParamValue Domain::clip(double x) const {
  MPITUNE_CHECK(!is_categorical(), "clip() is for numeric domains, " + name + " is categorical");
  MPITUNE_CHECK(!std::isnan(x), "clip() of NaN for " + name);
  const double c = std::clamp(x, low, high);
  if (kind == DomainKind::Int) return static_cast<int64_t>(std::llround(c));
  return c;
}

std::string Domain::describe() const {
  std::string out = std::string(domain_kind_name(kind)) + "(";
  if (is_categorical()) {
    for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + describe_value(values[i]);
  } else if (kind == DomainKind::Int) {
    out += std::to_string(static_cast<int64_t>(low)) + ", " + std::to_string(static_cast<int64_t>(high));
  } else {
    out += format_double(low) + ", " + format_double(high);
  }
  return out + ")";
}

Space::Space(std::vector<Domain> domains) : domains_(std::move(domains)) {
  for (size_t i = 0; i < domains_.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (domains_[i].name == domains_[j].name)
        throw ConfigError(field_of(domains_[i].name), "defined twice", "keep one definition");
}

Space Space::parse(const IniSection& section) {
  std::vector<Domain> domains;
  for (const auto& e : section.entries) domains.push_back(parse_domain(e.key, e.value));
  return Space(std::move(domains));
}

Domain Space::parse_domain(const std::string& name, const std::string& spec) {
  const std::string s = trim(spec);
  const size_t open = s.find('(');
  if (open == std::string::npos || s.empty() || s.back() != ')')
    throw ConfigError(field_of(name), "'" + s + "' is not of the form kind(arguments)",
                      std::string("write one of ") + kKnownKinds);
  const std::string kind_text = trim(s.substr(0, open));
  const std::vector<std::string> args = split_args(name, s.substr(open + 1, s.size() - open - 2));
  for (DomainKind k : {DomainKind::Uniform, DomainKind::LogUniform, DomainKind::Int}) {
    if (kind_text == domain_kind_name(k)) return parse_range(name, k, args);
  }
  for (DomainKind k : {DomainKind::Choice, DomainKind::Grid}) {
    if (kind_text == domain_kind_name(k)) return parse_values(name, k, args);
  }
  throw ConfigError(field_of(name), "unknown kind '" + kind_text + "'",
                    std::string("use one of ") + kKnownKinds);
}

const Domain* Space::find(const std::string& name) const {
  for (const auto& d : domains_)
    if (d.name == name) return &d;
  return nullptr;
}

HParams Space::sample(Rng& rng) const {
  HParams hp;
  for (const auto& d : domains_) hp.set(d.name, d.sample(rng));
  return hp;
}

}  // namespace mpitune
