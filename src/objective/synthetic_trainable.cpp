// The synthetic Trainable: the worker loop, protocol and failure handling exercised end to end
// without torch, at a chosen cost per step.
#include <chrono>
#include <thread>

#include "mpitune/core/error.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {

SyntheticTrainable::SyntheticTrainable(const SyntheticOptions& options, const Space& space)
    : objective_(options, space), step_cost_ms_(options.step_cost_ms) {}

void SyntheticTrainable::start(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) {
  MPITUNE_CHECK(max_steps >= 1, "max_steps must be >= 1");
  started_ = true;
  trial_ = trial;
  hp_ = hp;
  seed_ = seed;
  max_steps_ = max_steps;
  step_ = 0;
}

StepResult SyntheticTrainable::train_step() {
  MPITUNE_CHECK(started_, "train_step() before start()");
  ++step_;
  // Stands in for the compute a real step costs, so timing, throughput and time budgets can
  // be exercised; nothing waits on another thread here.
  if (step_cost_ms_ > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(step_cost_ms_));
  StepResult r;
  r.loss = objective_.value(hp_, step_, max_steps_, seed_);
  return r;
}

double SyntheticTrainable::evaluate() {
  MPITUNE_CHECK(started_, "evaluate() before start()");
  return objective_.value(hp_, step_, max_steps_, seed_);
}

void SyntheticTrainable::release() {
  started_ = false;
  trial_ = -1;
  hp_ = HParams();
  seed_ = 0;
  max_steps_ = 1;
  step_ = 0;
}

std::unique_ptr<Trainable> make_synthetic_trainable(const ExperimentConfig& cfg) {
  validate_synthetic(cfg);
  return std::make_unique<SyntheticTrainable>(cfg.synthetic, cfg.space);
}

}  // namespace mpitune
