// FIFO: no early stopping; every trial trains to max_t in one segment. The baseline the
// other schedulers are compared against, and what a plain random or grid search uses.

#include "mpitune/core/error.hpp"
#include "mpitune/sched/scheduler.hpp"

namespace mpitune {
namespace {

class FifoScheduler final : public Scheduler {
 public:
  explicit FifoScheduler(const FifoOptions& o) : max_t_(o.max_t) {
    MPITUNE_CHECK(max_t_ >= 1, "fifo max_t must be >= 1");
  }

  std::string name() const override { return "fifo"; }

  NextWork next(bool can_start_new) override {
    Assignment a;
    a.kind = can_start_new ? Assignment::Kind::NewTrial : Assignment::Kind::Done;
    a.budget = static_cast<double>(max_t_);
    return a;
  }

  TrialStart on_trial_start(TrialId, const HParams&, const Assignment&) override { return max_t_; }

  Decisions on_segment_end(TrialId, int64_t step, double) override {
    // Segments end at max_t; should one end short of it, finish the budget rather than
    // calling a partial run complete.
    if (step < max_t_) return Decision::cont(max_t_, "runs to max_t = " + std::to_string(max_t_));
    return Decision::make(Action::Complete, "reached max_t = " + std::to_string(max_t_));
  }

  OtherDecisions on_trial_failed(TrialId) override { return {}; }

  int64_t max_steps() const override { return max_t_; }

 private:
  int64_t max_t_;
};

}  // namespace

std::unique_ptr<Scheduler> make_fifo_scheduler(const FifoOptions& o) {
  return std::make_unique<FifoScheduler>(o);
}

}  // namespace mpitune
