// The per-experiment data the HTML figures share (see experiment_view.hpp).
#include "experiment_view.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "mpitune/report/run_cost.hpp"

namespace mpitune {
namespace html {
namespace {

// Domains from the trials' values, for files that do not store /space: numbers become uniform
// (loguniform when positive over more than two decades), text a choice.
std::vector<Domain> inferred_domains(const ExperimentData& run) {
  std::vector<Domain> out;
  for (const auto& t : run.trials)
    for (const auto& [name, value] : t.hparams.entries()) {
      auto it = std::find_if(out.begin(), out.end(), [&](const Domain& d) { return d.name == name; });
      if (it == out.end()) {
        Domain d;
        d.name = name;
        d.kind = value.is_numeric() ? DomainKind::Uniform : DomainKind::Choice;
        d.low = INFINITY;
        d.high = -INFINITY;
        out.push_back(d);
        it = out.end() - 1;
      }
      if (it->is_categorical()) {
        if (std::find(it->values.begin(), it->values.end(), value) == it->values.end()) it->values.push_back(value);
      } else if (value.is_numeric()) {
        it->low = std::min(it->low, value.as_double());
        it->high = std::max(it->high, value.as_double());
      }
    }
  for (auto& d : out)
    if (!d.is_categorical() && d.low > 0 && d.high / d.low > 100) d.kind = DomainKind::LogUniform;
  return out;
}

}  // namespace

bool better(const ExperimentView& v, double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return v.maximize ? a > b : a < b;
}

double domain_coordinate(const Domain& d, const HParams& hp) {
  const ParamValue* p = hp.find(d.name);
  if (!p) return kNaN;
  if (d.is_categorical()) {
    for (size_t i = 0; i < d.values.size(); ++i)
      if (d.values[i] == *p) return static_cast<double>(i);
    // A numeric choice may come back as another numeric type (1 vs 1.0).
    for (size_t i = 0; i < d.values.size(); ++i)
      if (p->is_numeric() && d.values[i].is_numeric() && d.values[i].as_double() == p->as_double())
        return static_cast<double>(i);
    return kNaN;
  }
  return p->is_numeric() ? p->as_double() : kNaN;
}

bool geometric_budgets(const ExperimentData& run) {
  const std::string& s = run.info.scheduler;
  if (s == "asha" || s == "hyperband" || s == "bohb") return true;
  // Older files without the scheduler's name: rung budgets in the decisions that grow by a factor.
  std::set<int64_t> budgets;
  for (const auto& d : run.decisions)
    if (d.rung >= 0 && std::isfinite(d.budget) && d.budget > 0) budgets.insert(static_cast<int64_t>(d.budget));
  return budgets.size() >= 3 && *budgets.rbegin() >= 9 * *budgets.begin();
}

std::string metric_label(const ExperimentData& run) {
  std::string m = run.info.metric.empty() ? "eval_loss" : run.info.metric;
  std::replace(m.begin(), m.end(), '_', ' ');
  if (run.info.trainable == "gpt") m += " (nats/token)";
  return m;
}

std::string display_name(const ExperimentData& run) {
  if (!run.info.name.empty()) return run.info.name;
  if (!run.path.empty()) return run.path;
  return "experiment";
}

ExperimentView make_experiment_view(const ExperimentData& run) {
  ExperimentView v;
  v.run = &run;
  v.metric = run.info.metric.empty() ? "eval_loss" : run.info.metric;
  v.maximize = run.info.mode == "max";
  v.trials.resize(run.trials.size());
  std::unordered_map<TrialId, size_t> index;
  index.reserve(run.trials.size() * 2);
  for (size_t i = 0; i < run.trials.size(); ++i) {
    TrialView& t = v.trials[i];
    t.record = &run.trials[i];
    t.final_budget = final_budget(run.trials[i], run.info.max_t);
    if (t.final_budget >= 0) t.final_value = run.trials[i].last_metric;
    index[run.trials[i].id] = i;
  }
  // The devices-minutes of a row: active_time is linear in the segments, which are few.
  const bool many_segments = run.segments.size() > 1;
  const double start = run.info.start_time;
  const int devices = experiment_devices(run.info);
  for (const auto& m : run.metrics) {
    const double value = metric_value(m, v.metric);
    if (!std::isfinite(value)) continue;
    auto it = index.find(m.trial);
    if (it == index.end()) continue;
    const double dm = many_segments ? active_time(run, m.time).device_minutes
                                    : devices * std::max(0.0, m.time - start) / 60.0;
    v.trials[it->second].series.push_back(SeriesPoint{m.step, m.time, dm, value});
    ++v.metric_rows;
  }
  for (auto& t : v.trials)
    if (!std::is_sorted(t.series.begin(), t.series.end(),
                        [](const SeriesPoint& a, const SeriesPoint& b) { return a.step < b.step; }))
      std::stable_sort(t.series.begin(), t.series.end(),
                       [](const SeriesPoint& a, const SeriesPoint& b) { return a.step < b.step; });
  v.best = select_best_trial(run.trials, run.info.max_t, v.maximize);
  if (v.best.trial >= 0 && index.count(v.best.trial)) v.best_index = static_cast<int>(index[v.best.trial]);
  v.ranked.resize(v.trials.size());
  for (size_t i = 0; i < v.ranked.size(); ++i) v.ranked[i] = i;
  std::stable_sort(v.ranked.begin(), v.ranked.end(), [&](size_t a, size_t b) {
    const TrialView &x = v.trials[a], &y = v.trials[b];
    const bool hx = x.final_budget >= 0 && std::isfinite(x.final_value);
    const bool hy = y.final_budget >= 0 && std::isfinite(y.final_value);
    if (hx != hy) return hx;
    if (!hx) return x.record->id < y.record->id;
    if (x.final_budget != y.final_budget) return x.final_budget > y.final_budget;
    if (x.final_value != y.final_value) return better(v, x.final_value, y.final_value);
    return x.record->id < y.record->id;
  });
  // The best trial leads, whatever the ranking's tie rules say.
  if (v.best_index >= 0) {
    auto it = std::find(v.ranked.begin(), v.ranked.end(), static_cast<size_t>(v.best_index));
    std::rotate(v.ranked.begin(), it, it + 1);
  }
  v.domains = run.info.space.size() > 0 ? run.info.space.domains() : inferred_domains(run);
  return v;
}

}  // namespace html
}  // namespace mpitune
