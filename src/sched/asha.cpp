// ASHA, stopping variant with one bracket (Li et al. 2020; Ray Tune's AsyncHyperBandScheduler).
//
// Each trial runs from milestone to milestone; at each one it is compared with whatever has
// been recorded there so far and either continues to the next milestone or stops. Nobody waits
// for a rung to fill, so groups never idle, at the price of early trials being judged against
// few others. No checkpoints are needed: a survivor keeps training in the same segment chain.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "mpitune/core/error.hpp"
#include "mpitune/sched/rungs.hpp"
#include "mpitune/sched/scheduler.hpp"

namespace mpitune {
namespace {

std::string fmt(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

class AshaScheduler final : public Scheduler {
 public:
  explicit AshaScheduler(const AshaOptions& o)
      : rungs_(std::min(o.grace_period, o.max_t), o.reduction_factor, o.max_t), rule_(o.rule) {}

  std::string name() const override { return "asha"; }

  NextWork next(bool can_start_new) override {
    Assignment a;
    a.kind = can_start_new ? Assignment::Kind::NewTrial : Assignment::Kind::Done;
    a.budget = static_cast<double>(rungs_.milestones().front());
    return a;
  }

  TrialStart on_trial_start(TrialId, const HParams&, const Assignment&) override {
    return rungs_.milestones().front();  // max_t itself when grace >= max_t
  }

  Decisions on_segment_end(TrialId id, int64_t step, double loss) override {
    // The coordinator already maps non-finite metrics to +inf; a NaN here would make every
    // comparison false and silently promote the trial, so treat it the same way.
    if (std::isnan(loss)) loss = std::numeric_limits<double>::infinity();
    const int top = static_cast<int>(rungs_.milestones().size()) - 1;
    if (step >= rungs_.max_t()) {
      rungs_.record(id, top, loss);  // bookkeeping only; the full budget is never cut
      Decision d = Decision::make(Action::Complete, "reached max_t = " + std::to_string(rungs_.max_t()));
      d.rung = top;
      return d;
    }
    const int64_t until = rungs_.next_milestone(step);
    const int rung = rungs_.rung_to_judge(id, step);
    if (rung < 0) return Decision::cont(until, "no new rung reached at step " + std::to_string(step));

    // The percentile rule looks at the values recorded before this one, so read them first.
    const std::vector<double> before =
        rule_ == AshaOptions::Rule::Percentile ? rungs_.values(rung) : std::vector<double>{};
    rungs_.record(id, rung, loss);
    std::string where = "rung " + std::to_string(rung) + " (step " +
                        std::to_string(rungs_.milestones()[static_cast<size_t>(rung)]) + ")";
    if (rungs_.milestones()[static_cast<size_t>(rung)] != step)
      where += " reached at step " + std::to_string(step);

    bool keep;
    std::string why;
    if (rule_ == AshaOptions::Rule::TopK) {
      const int64_t recorded = static_cast<int64_t>(rungs_.values(rung).size());
      const int64_t rank = rungs_.count_below(rung, loss) + 1;  // 1 = best, for people reading /decisions
      const int64_t k = topk_keep_count(recorded, rungs_.eta());
      keep = rank <= k;
      why = where + ": rank " + std::to_string(rank) + " of " + std::to_string(recorded) +
            ", keep top " + std::to_string(k);
    } else {
      const auto cutoff = percentile_cutoff_reward(before, rungs_.eta());
      if (!cutoff) {
        keep = true;
        why = where + ": first result at this rung";
      } else {
        keep = !(-loss < *cutoff);
        why = where + ": loss " + fmt(loss) + (keep ? " within" : " worse than") + " cutoff " +
              fmt(-*cutoff) + " (top " + fmt(100.0 / rungs_.eta()) + "% of " +
              std::to_string(before.size()) + " earlier)";
      }
    }
    Decision d = keep ? Decision::cont(until, why) : Decision::make(Action::Stop, why);
    d.rung = rung;
    return d;
  }

  // A failed trial's records stay: they are real results at those rungs, and removing them
  // would make later decisions depend on when the failure happened.
  OtherDecisions on_trial_failed(TrialId) override { return {}; }

  int64_t max_steps() const override { return rungs_.max_t(); }

 private:
  RungTable rungs_;
  AshaOptions::Rule rule_;
};

}  // namespace

std::unique_ptr<Scheduler> make_asha_scheduler(const AshaOptions& o) {
  MPITUNE_CHECK(o.max_t >= 1 && o.grace_period >= 1 && o.reduction_factor > 1,
                "invalid ASHA options (need max_t >= 1, grace_period >= 1, reduction_factor > 1)");
  return std::make_unique<AshaScheduler>(o);
}

}  // namespace mpitune
