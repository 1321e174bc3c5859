// Milestones, rung records and cut rules (see rungs.hpp). Nothing here knows about time,
// groups or the coordinator, which keeps every rule testable from a handful of numbers.
#include "mpitune/sched/rungs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mpitune/core/error.hpp"

namespace mpitune {

std::vector<int64_t> rung_milestones(int64_t grace, double eta, int64_t max_t) {
  MPITUNE_CHECK(max_t >= 1, "max_t must be >= 1");
  MPITUNE_CHECK(grace >= 1, "grace period must be >= 1");
  MPITUNE_CHECK(eta > 1, "reduction factor must be > 1");
  std::vector<int64_t> out;
  // Multiply in double and round each term, so eta = 3 gives exact powers and a fractional
  // eta such as 2.5 does not accumulate rounding from one milestone into the next.
  for (double m = static_cast<double>(grace); m < static_cast<double>(max_t); m *= eta) {
    const int64_t r = std::llround(m);
    if (r >= max_t) break;
    if (out.empty() || r > out.back()) out.push_back(r);
  }
  out.push_back(max_t);
  return out;
}

int64_t topk_keep_count(int64_t n, double eta) {
  return std::max<int64_t>(1, static_cast<int64_t>(std::floor(static_cast<double>(n) / eta)));
}

int64_t rank_among(const std::vector<double>& losses, double loss) {
  return std::count_if(losses.begin(), losses.end(), [loss](double v) { return v < loss; });
}

bool topk_keeps(const std::vector<double>& losses, double loss, double eta) {
  return rank_among(losses, loss) < topk_keep_count(static_cast<int64_t>(losses.size()), eta);
}

std::optional<double> quantile_linear(std::vector<double> values, double q) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  const double t = pos - static_cast<double>(lo);
  const double a = values[lo], b = values[hi];
  // a + (b - a) * t is NaN when a = -inf; an infinite end point dominates any interpolation.
  if (t == 0 || a == b) return a;
  if (std::isinf(a)) return a;
  if (std::isinf(b)) return b;
  return a + (b - a) * t;
}

std::optional<double> percentile_cutoff_reward(const std::vector<double>& prior_losses, double eta) {
  std::vector<double> rewards;
  rewards.reserve(prior_losses.size());
  for (double l : prior_losses) rewards.push_back(-l);
  return quantile_linear(std::move(rewards), 1.0 - 1.0 / eta);
}

RungTable::RungTable(int64_t grace, double eta, int64_t max_t)
    : milestones_(rung_milestones(grace, eta, max_t)),
      eta_(eta),
      values_(milestones_.size()),
      ordered_(milestones_.size()),
      by_trial_(milestones_.size()) {}

int RungTable::highest_reached(int64_t step) const {
  const auto it = std::upper_bound(milestones_.begin(), milestones_.end(), step);
  return static_cast<int>(it - milestones_.begin()) - 1;
}

int64_t RungTable::next_milestone(int64_t step) const {
  const auto it = std::upper_bound(milestones_.begin(), milestones_.end(), step);
  return it == milestones_.end() ? max_t() : *it;
}

int RungTable::rung_to_judge(TrialId id, int64_t step) const {
  const int reached = highest_reached(step);
  return reached > highest_recorded(id) ? reached : -1;
}

bool RungTable::recorded(TrialId id, int rung) const {
  MPITUNE_CHECK(rung >= 0 && rung < static_cast<int>(milestones_.size()), "rung index out of range");
  return by_trial_[static_cast<size_t>(rung)].count(id) > 0;
}

int RungTable::highest_recorded(TrialId id) const {
  const auto it = highest_.find(id);
  return it == highest_.end() ? -1 : it->second;
}

bool RungTable::record(TrialId id, int rung, double loss) {
  if (recorded(id, rung)) return false;
  const size_t r = static_cast<size_t>(rung);
  by_trial_[r][id] = loss;
  ordered_[r].insert({loss, static_cast<int64_t>(values_[r].size())});
  values_[r].push_back(loss);
  int& h = highest_.try_emplace(id, -1).first->second;
  h = std::max(h, rung);
  return true;
}

const std::vector<double>& RungTable::values(int rung) const {
  MPITUNE_CHECK(rung >= 0 && rung < static_cast<int>(milestones_.size()), "rung index out of range");
  return values_[static_cast<size_t>(rung)];
}

int64_t RungTable::count_below(int rung, double loss) const {
  MPITUNE_CHECK(rung >= 0 && rung < static_cast<int>(milestones_.size()), "rung index out of range");
  return static_cast<int64_t>(
      ordered_[static_cast<size_t>(rung)].order_of_key({loss, std::numeric_limits<int64_t>::min()}));
}

}  // namespace mpitune
