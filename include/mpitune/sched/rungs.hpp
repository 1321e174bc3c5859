// Rung bookkeeping for successive halving: milestones, which rung a step reaches, the values
// recorded at each rung, and the two cut rules. Pure data and arithmetic, shared by ASHA and
// (synchronous) Hyperband, so both judge trials by exactly the same rules.
//
// Losses are lower-is-better everywhere; a failed or non-finite result is +inf.
#pragma once

#include <cstdint>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "mpitune/sched/decision.hpp"

namespace mpitune {

// grace * eta^k for k = 0, 1, ... while below max_t, then max_t itself: (1, 3, 81) ->
// 1, 3, 9, 27, 81; (1, 3, 100) -> 1, 3, 9, 27, 81, 100. Milestones are rounded to whole steps
// (eta need not be an integer) and kept strictly increasing. grace >= max_t gives {max_t}.
std::vector<int64_t> rung_milestones(int64_t grace, double eta, int64_t max_t);

// How many of n results at a rung go on under the top-k rule: max(1, floor(n / eta)).
int64_t topk_keep_count(int64_t n, double eta);
// Number of values strictly lower (better) than `loss`: 0 for the best, ties share a rank.
int64_t rank_among(const std::vector<double>& losses, double loss);
// Top-k rule: `losses` holds every value at the rung including the judged one.
bool topk_keeps(const std::vector<double>& losses, double loss, double eta);

// The q-quantile (q in [0, 1]) with linear interpolation between order statistics, as numpy's
// default; nullopt for no values. -inf/+inf values stay infinite rather than turning into NaN.
std::optional<double> quantile_linear(std::vector<double> values, double q);
// Ray's percentile rule in reward terms (reward = -loss): the cutoff is the (1 - 1/eta)
// quantile of the rewards recorded before the judged trial; nullopt (always continue) when none.
std::optional<double> percentile_cutoff_reward(const std::vector<double>& prior_losses, double eta);

// Milestones plus the values recorded at each of them. A trial is recorded at a milestone at
// most once; the first value stays.
class RungTable {
 public:
  RungTable(int64_t grace, double eta, int64_t max_t);

  const std::vector<int64_t>& milestones() const { return milestones_; }
  // Milestones strictly below max_t: the ones where trials are judged.
  int num_rungs() const { return static_cast<int>(milestones_.size()) - 1; }
  int64_t max_t() const { return milestones_.back(); }
  double eta() const { return eta_; }

  // Index of the highest milestone <= step; -1 below the first one.
  int highest_reached(int64_t step) const;
  // The first milestone strictly above step, or max_t once step >= max_t.
  int64_t next_milestone(int64_t step) const;
  // The milestone a trial at `step` must be judged at now: the highest one reached, provided the
  // trial has no record there or above (records only move up). -1 when there is nothing to judge.
  // A trial that jumped several milestones is judged at the highest only.
  int rung_to_judge(TrialId id, int64_t step) const;

  bool recorded(TrialId id, int rung) const;
  // Highest milestone index the trial has a record at; -1 for none.
  int highest_recorded(TrialId id) const;
  // Records a value; false (and nothing changes) when the trial already has one at that rung.
  bool record(TrialId id, int rung, double loss);
  // The values recorded at a rung, in recording order.
  const std::vector<double>& values(int rung) const;
  // How many values recorded at a rung are strictly below `loss` (rank_among over values(rung)),
  // in O(log n): ASHA judges every trial against every value of its rung, and a scan per
  // judgement made a million-trial simulation quadratic.
  int64_t count_below(int rung, double loss) const;

 private:
  std::vector<int64_t> milestones_;
  double eta_;
  std::vector<std::vector<double>> values_;        // per milestone, in recording order
  // Per milestone, the same values ordered (value, recording index): an order-statistics tree.
  using OrderedValues = __gnu_pbds::tree<std::pair<double, int64_t>, __gnu_pbds::null_type,
                                         std::less<std::pair<double, int64_t>>, __gnu_pbds::rb_tree_tag,
                                         __gnu_pbds::tree_order_statistics_node_update>;
  std::vector<OrderedValues> ordered_;
  std::vector<std::map<TrialId, double>> by_trial_; // per milestone: who is recorded there
  std::map<TrialId, int> highest_;                  // per trial: its highest record
};

}  // namespace mpitune
