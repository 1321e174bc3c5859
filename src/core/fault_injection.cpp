#include "mpitune/core/fault_injection.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>
#include <map>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

// Ends (kill) or freezes (stop) this process the way the kernel would, so what the rest of the
// job sees is what it would see after an out-of-memory kill or a hang.
void raise_signal(int sig, const char* mode) {
  if (std::raise(sig) != 0)
    throw InfraError(std::string("faults.fail_mode = ") + mode + ": raise failed: " + std::strerror(errno));
}

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
    if (armed_ && inner_->step() == faults_.fail_at_step &&
        (faults_.fail_attempts == 0 || fired_[trial_]++ < faults_.fail_attempts)) {
      const std::string& mode = faults_.fail_mode;
      if (mode == "throw") throw TrialError("injected failure at step " + std::to_string(faults_.fail_at_step));
      if (mode == "kill") raise_signal(SIGKILL, "kill");  // does not return
      if (mode == "stop") {
        raise_signal(SIGSTOP, "stop");
        return r;  // continued (SIGCONT): the step went through
      }
      r.loss = std::numeric_limits<double>::quiet_NaN();
    }
    return r;
  }
  double evaluate() override { return inner_->evaluate(); }
  double evaluate_retention() override { return inner_->evaluate_retention(); }
  DocumentLosses evaluate_test_documents() override { return inner_->evaluate_test_documents(); }
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
    trial_ = trial;
    armed_ = std::find(faults_.fail_trials.begin(), faults_.fail_trials.end(), trial) != faults_.fail_trials.end();
  }

  std::unique_ptr<Trainable> inner_;
  FaultOptions faults_;
  bool armed_ = false;
  int64_t trial_ = -1;
  std::map<int64_t, int> fired_;  // faults raised per trial (fail_attempts)
};

}  // namespace

void inject_startup_fault(const FaultOptions& faults, int world_rank) {
  if (faults.startup_rank < 0 || faults.startup_rank != world_rank) return;
  if (faults.fail_mode == "kill") raise_signal(SIGKILL, "kill");
  if (faults.fail_mode == "stop") {
    raise_signal(SIGSTOP, "stop");
    return;  // continued
  }
  throw InfraError("injected failure while starting (faults.startup_rank = " + std::to_string(world_rank) + ")");
}

std::unique_ptr<Trainable> with_fault_injection(std::unique_ptr<Trainable> inner, const FaultOptions& faults,
                                                int group_rank) {
  if (faults.fail_trials.empty()) return inner;
  if (faults.fail_rank >= 0 && faults.fail_rank != group_rank) return inner;
  return std::make_unique<FaultInjectingTrainable>(std::move(inner), faults);
}

}  // namespace mpitune
