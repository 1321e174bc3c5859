#include "mpitune/core/fault_injection.hpp"

#include <algorithm>
#include <limits>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

class FaultInjectingTrainable : public Trainable {
 public:
  FaultInjectingTrainable(std::unique_ptr<Trainable> inner, FaultOptions faults)
      : inner_(std::move(inner)), faults_(std::move(faults)) {}

  void start(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) override {
    arm(trial);
    inner_->start(trial, hp, seed, max_steps);
  }
  int64_t step() const override { return inner_->step(); }
  StepResult train_step() override {
    StepResult r = inner_->train_step();
    if (armed_ && inner_->step() == faults_.fail_at_step) {
      if (faults_.fail_mode == "throw")
        throw TrialError("injected failure at step " + std::to_string(faults_.fail_at_step));
      r.loss = std::numeric_limits<double>::quiet_NaN();
    }
    return r;
  }
  double evaluate() override { return inner_->evaluate(); }
  void release() override { inner_->release(); }
  void save_checkpoint(const std::string& dir) override { inner_->save_checkpoint(dir); }
  void load_checkpoint(const std::string& dir, int64_t trial, const HParams& hp) override {
    arm(trial);
    inner_->load_checkpoint(dir, trial, hp);
  }
  std::vector<uint8_t> save_state() override { return inner_->save_state(); }
  void load_state(const std::vector<uint8_t>& bytes, int64_t trial, const HParams& hp) override {
    arm(trial);
    inner_->load_state(bytes, trial, hp);
  }
  void update_hparams(const HParams& hp) override { inner_->update_hparams(hp); }

 private:
  void arm(int64_t trial) {
    armed_ = std::find(faults_.fail_trials.begin(), faults_.fail_trials.end(), trial) != faults_.fail_trials.end();
  }

  std::unique_ptr<Trainable> inner_;
  FaultOptions faults_;
  bool armed_ = false;
};

}  // namespace

std::unique_ptr<Trainable> with_fault_injection(std::unique_ptr<Trainable> inner, const FaultOptions& faults,
                                                int group_rank) {
  if (faults.fail_trials.empty()) return inner;
  if (faults.fail_rank >= 0 && faults.fail_rank != group_rank) return inner;
  return std::make_unique<FaultInjectingTrainable>(std::move(inner), faults);
}

}  // namespace mpitune
