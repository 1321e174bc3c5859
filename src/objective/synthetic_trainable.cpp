// The synthetic Trainable: the worker loop, protocol and failure handling exercised end to end
// without torch, at a chosen cost per step.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
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

Trainable::DocumentLosses SyntheticTrainable::evaluate_test_documents() {
  MPITUNE_CHECK(started_, "evaluate_test_documents() before start()");
  const double v = objective_.value(hp_, step_, max_steps_, seed_);
  DocumentLosses d;
  for (int i = 0; i < kSyntheticTestDocuments; ++i) {
    Rng rng(derive_seed(0, "synthetic-test-document", static_cast<uint64_t>(i)));
    const double offset = 0.1 * rng.normal();
    const int64_t tokens = 8 + rng.integer(0, 23);
    d.loss_sums.push_back((v + offset) * static_cast<double>(tokens));
    d.tokens.push_back(tokens);
  }
  return d;
}

void SyntheticTrainable::release() {
  started_ = false;
  trial_ = -1;
  hp_ = HParams();
  seed_ = 0;
  max_steps_ = 1;
  step_ = 0;
}

// The whole state is (seed, max_steps, step): the objective is a function of them and the
// hyperparameters. The same text serves checkpoints and PBT transfers.
std::vector<uint8_t> SyntheticTrainable::save_state() {
  MPITUNE_CHECK(started_, "save_state() before start()");
  const std::string text = "mpitune-synthetic 1\n" + std::to_string(trial_) + ' ' + std::to_string(seed_) + ' ' +
                           std::to_string(max_steps_) + ' ' + std::to_string(step_) + '\n';
  return std::vector<uint8_t>(text.begin(), text.end());
}

void SyntheticTrainable::load_state(const std::vector<uint8_t>& bytes, int64_t trial, const HParams& hp) {
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::string magic;
  int version = 0;
  int64_t saved_trial = -1;
  uint64_t seed = 0;
  int64_t max_steps = 0, step = 0;
  if (!(in >> magic >> version >> saved_trial >> seed >> max_steps >> step) || magic != "mpitune-synthetic" ||
      version != 1)
    throw TrialError("not a synthetic trainable's state");
  (void)saved_trial;  // a PBT clone loads another trial's state under its own id
  started_ = true;
  trial_ = trial;
  hp_ = hp;
  seed_ = seed;
  max_steps_ = max_steps;
  step_ = step;
}

void SyntheticTrainable::update_hparams(const HParams& hp) {
  MPITUNE_CHECK(started_, "update_hparams() before start()");
  hp_ = hp;
}

// Every rank of a group holds the same state, so each writes the same bytes to a temporary
// file of its own and renames it into place (atomic: a reader never sees half a file).
void SyntheticTrainable::save_checkpoint(const std::string& dir) {
  const std::vector<uint8_t> bytes = save_state();
  std::filesystem::create_directories(dir);
  const std::string final_path = dir + "/synthetic.state";
  const std::string tmp = final_path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::trunc | std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f.flush()) throw InfraError("cannot write checkpoint " + tmp);
  }
  std::filesystem::rename(tmp, final_path);
}

void SyntheticTrainable::load_checkpoint(const std::string& dir, int64_t trial, const HParams& hp) {
  std::ifstream f(dir + "/synthetic.state", std::ios::binary);
  if (!f) throw TrialError("checkpoint " + dir + " is missing");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  load_state(bytes, trial, hp);
}

std::unique_ptr<Trainable> make_synthetic_trainable(const ExperimentConfig& cfg) {
  validate_synthetic(cfg);
  return std::make_unique<SyntheticTrainable>(cfg.synthetic, cfg.space);
}

}  // namespace mpitune
