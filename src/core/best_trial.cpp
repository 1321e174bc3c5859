// Which trial is the experiment's best (see best_trial.hpp).
#include "mpitune/store/best_trial.hpp"

#include <algorithm>
#include <cmath>

namespace mpitune {

int64_t final_budget(const TrialRecord& t, int64_t max_t) {
  if (t.status == TrialStatus::Failed || !std::isfinite(t.last_metric) || t.metric_step < 0) return -1;
  return t.status == TrialStatus::EarlyStopped ? std::max(max_t, t.metric_step) : t.metric_step;
}

BestChoice select_best_trial(const std::vector<const TrialRecord*>& trials, int64_t max_t, bool maximize) {
  BestChoice best;
  for (const TrialRecord* t : trials) {
    const int64_t budget = final_budget(*t, max_t);
    if (budget < 0) continue;
    // Budgets above max_t (a PBT clone's step can pass it by a few) count as max_t.
    const int64_t b = max_t > 0 ? std::min(budget, max_t) : budget;
    const double v = t->last_metric;
    const bool better_value = maximize ? v > best.metric : v < best.metric;
    const bool wins = best.trial < 0 || b > best.budget ||
                      (b == best.budget && (better_value || (v == best.metric && t->id < best.trial)));
    if (!wins) continue;
    best.trial = t->id;
    best.metric = v;
    best.budget = b;
  }
  best.at_full_budget = best.trial >= 0 && max_t > 0 && best.budget >= max_t;
  return best;
}

BestChoice select_best_trial(const std::vector<TrialRecord>& trials, int64_t max_t, bool maximize) {
  std::vector<const TrialRecord*> ptrs;
  ptrs.reserve(trials.size());
  for (const auto& t : trials) ptrs.push_back(&t);
  return select_best_trial(ptrs, max_t, maximize);
}

}  // namespace mpitune
