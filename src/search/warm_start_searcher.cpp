// Warm start: configurations the user already believes in (the manual grid's best, the model
// card's defaults) are tried first, in the order written, before the searcher's own proposals.
//
// The configurations come from [search] initial_configs and are parsed here against the
// [space], value by value through the domain they belong to: an int() stays an integer, a
// choice() value becomes that very choice (so 16 and 16.0 are one choice), a range value must
// lie inside the range. A wrong configuration is a ConfigError naming search.initial_configs,
// which configuration (1-based, as written) and which name, before anything runs.
//
// The wrapper counts suggest() calls, not trial ids: a failed start that skips an id does not
// skip a warm-start configuration. observe() always reaches the wrapped searcher, so BOHB's
// model learns from the warm-start trials like from any other.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <utility>

#include "mpitune/core/error.hpp"
#include "mpitune/core/ini.hpp"
#include "mpitune/search/searcher.hpp"

namespace mpitune {
namespace {

constexpr const char* kField = "search.initial_configs";

class WarmStartSearcher final : public Searcher {
 public:
  WarmStartSearcher(std::unique_ptr<Searcher> inner, std::vector<HParams> initial)
      : inner_(std::move(inner)), initial_(std::move(initial)) {
    MPITUNE_CHECK(inner_ != nullptr, "a warm start needs a searcher to continue with");
  }

  std::string name() const override { return inner_->name(); }

  std::optional<HParams> suggest(TrialId id, double budget) override {
    if (served_ < initial_.size()) return initial_[served_++];
    return inner_->suggest(id, budget);
  }

  void observe(TrialId id, const HParams& hp, double budget, double loss) override {
    inner_->observe(id, hp, budget, loss);
  }

 private:
  std::unique_ptr<Searcher> inner_;
  std::vector<HParams> initial_;
  size_t served_ = 0;  // how many of initial_ suggest() has handed out
};

// Splits at `sep` outside quotes, trimming each piece; quotes protect text choices that
// contain ',' or ';'.
std::vector<std::string> split_outside_quotes(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == sep) {
      out.push_back(trim(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (quote)
    throw ConfigError(kField, std::string("unterminated quote ") + quote, "close every quoted value, e.g. act='gelu'");
  out.push_back(trim(cur));
  return out;
}

bool is_quoted(const std::string& s) {
  return s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front();
}

std::optional<double> to_number(const std::string& s) { return parse_finite_number(s); }

std::string names_of(const Space& space) {
  std::string all;
  for (const auto& d : space.domains()) all += (all.empty() ? "" : ", ") + d.name;
  return all;
}

// `where` is "configuration 2, lr" for the messages.
ParamValue parse_value(const Domain& d, const std::string& text, const std::string& where) {
  const std::string shown = "'" + text + "'";
  if (d.is_categorical()) {
    const bool quoted = is_quoted(text);
    const std::string bare = quoted ? text.substr(1, text.size() - 2) : text;
    const auto number = quoted ? std::nullopt : to_number(text);
    for (const auto& v : d.values) {
      if (v.is_string() ? v.as_string() == bare : (number && v.as_double() == *number)) return v;
    }
    throw ConfigError(kField, where + " = " + shown + " is not one of " + d.describe(), "pick one of its values");
  }
  const auto number = is_quoted(text) ? std::nullopt : to_number(text);
  if (!number)
    throw ConfigError(kField, where + " = " + shown + " is not a number",
                      std::string("give a number inside ") + d.describe());
  if (*number < d.low || *number > d.high)
    throw ConfigError(kField, where + " = " + shown + " is outside " + d.describe(),
                      "give a value between its bounds");
  if (d.kind == DomainKind::Int) {
    if (*number != std::floor(*number))
      throw ConfigError(kField, where + " = " + shown + " is not a whole number", "int() takes integers such as 16");
    return static_cast<int64_t>(*number);
  }
  return *number;
}

// One "name=value, name=value" list, number `index` (1-based), in space order.
HParams parse_one(const Space& space, const std::string& text, size_t index) {
  const std::string config = "configuration " + std::to_string(index);
  std::vector<std::optional<ParamValue>> values(space.size());
  for (const std::string& item : split_outside_quotes(text, ',')) {
    const size_t eq = item.find('=');
    if (item.empty() || eq == std::string::npos)
      throw ConfigError(kField, config + ": '" + item + "' is not name=value",
                        "write e.g. lr=3e-4, batch_size=16 (configurations separated by ';')");
    const std::string name = trim(item.substr(0, eq));
    const std::string value = trim(item.substr(eq + 1));
    size_t dim = 0;
    while (dim < space.size() && space.domains()[dim].name != name) ++dim;
    if (dim == space.size())
      throw ConfigError(kField, config + ": '" + name + "' is not a [space] hyperparameter",
                        "use the [space] names: " + names_of(space));
    if (values[dim])
      throw ConfigError(kField, config + ": '" + name + "' is given twice", "keep one value");
    values[dim] = parse_value(space.domains()[dim], value, config + ", " + name);
  }
  HParams hp;
  std::string missing;
  for (size_t dim = 0; dim < space.size(); ++dim) {
    if (values[dim]) hp.set(space.domains()[dim].name, *values[dim]);
    else missing += (missing.empty() ? "" : ", ") + space.domains()[dim].name;
  }
  if (!missing.empty())
    throw ConfigError(kField, config + " does not give " + missing,
                      "give every [space] hyperparameter a value (" + names_of(space) + ")");
  return hp;
}

}  // namespace

std::vector<HParams> parse_initial_configs(const Space& space, const std::string& text) {
  std::vector<HParams> out;
  if (trim(text).empty()) return out;
  std::vector<std::string> pieces = split_outside_quotes(text, ';');
  if (pieces.size() > 1 && pieces.back().empty()) pieces.pop_back();  // a trailing ';'
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].empty())
      throw ConfigError(kField, "configuration " + std::to_string(i + 1) + " is empty",
                        "remove the extra ';' (configurations are separated by one ';')");
    out.push_back(parse_one(space, pieces[i], i + 1));
  }
  return out;
}

std::unique_ptr<Searcher> make_warm_start_searcher(std::unique_ptr<Searcher> inner, std::vector<HParams> initial) {
  if (initial.empty()) return inner;
  return std::make_unique<WarmStartSearcher>(std::move(inner), std::move(initial));
}

}  // namespace mpitune
