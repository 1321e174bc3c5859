// Synthetic objectives: cheap functions with known optima that stand in for model training in
// tests, the simulator and scaling studies (definitions in REFERENCES.md), and the Trainable
// that serves them to the worker loop exactly as the GPT trainer would be served.
//
// All of them are deterministic functions of their inputs and a seed: the same trial seed, step
// and hyperparameters always give the same value, so two runs make identical decisions.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

// ---- the functions ----

// Branin on x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 at (-pi, 12.275), (pi, 2.275),
// (9.42478, 2.475).
double branin(double x1, double x2);
constexpr double kBraninMinimum = 0.397887357729738;

// Hartmann-6 on [0, 1]^6; minimum -3.32237 at kHartmann6Argmin.
double hartmann6(const std::array<double, 6>& x);
constexpr double kHartmann6Minimum = -3.32236801141551;
constexpr std::array<double, 6> kHartmann6Argmin{0.20168952, 0.15001069, 0.47687398,
                                                 0.27533243, 0.31165162, 0.65730054};

// Multi-fidelity Hartmann-6 (mf-prior-bench) at fidelity z in 1..100, s = log z / log 100:
// alpha'(z) = alpha - bias * (1 - s), plus |N(0,1)| * noise * (1 - s), the normal drawn from
// derive_seed(seed, "mf_hartmann6", z). At z = 100 it is plain Hartmann-6; below, the bias
// flattens the function and the noise only ever makes it worse (non-negative).
double mf_hartmann6(const std::array<double, 6>& x, int z, double bias, double noise, uint64_t seed);
// The relative cost of evaluating fidelity z: 0.05 + 0.95 * (z / 100)^2.
double mf_hartmann6_cost(int z);

// Counting ones at budget b >= 1: -(sum of cats + sum_j mean of b Bernoulli(conts[j]) draws).
// Draw k of dimension j is the k-th of stream derive_seed(seed, "counting_ones", j), so a larger
// budget refines the same estimate instead of drawing a new one. Optimum -(cats + conts) at all
// ones.
double counting_ones(const std::vector<int>& cats, const std::vector<double>& conts, int64_t budget,
                     uint64_t seed);

// Learning curve for scheduler tests. With u the unit coordinates of a configuration (d >= 0
// dimensions), p = clamp(step / max_steps, 0, 1), and
//   c_j   = 0.2 + 0.6 * frac(0.618034 * (j + 1))     the best configuration (inside the cube)
//   floor = 0.2 + 2 * mean_j (u_j - c_j)^2           the loss it converges to (0.2 at c)
//   k     = 2 + 6 * u_0                               how fast (u_0 acts like a learning rate)
//   mean  = floor + (3 - floor) * exp(-k * p)         starts at 3, decays toward the floor
//   loss  = mean + noise * exp(-2 p) * N(0, 1)        N from derive_seed(seed, "learning_curve", step)
// A large u_0 converges fast to a worse floor, so early ranks are informative but not perfect;
// the noise shrinks as training goes on. d = 0 gives floor 0.2 and k = 5.
double learning_curve_loss(int64_t step, int64_t max_steps, const std::vector<double>& u,
                           uint64_t seed, double noise);

// Fidelity of a multi-fidelity objective after `step` of `max_steps` steps:
// clamp(round(100 * step / max_steps), 1, 100); with max_steps = 100 it is the step itself.
int fidelity_of_step(int64_t step, int64_t max_steps);

// ---- configurations -> objective ----

// Which hyperparameters feed the configured objective, in space order:
//   branin          raw values of the first two numeric hyperparameters
//   hartmann6       raw values of the first six numeric ones, each within [0, 1] (the
//                   multi-fidelity variant with synthetic.bias/noise; 0/0 is plain Hartmann-6)
//   counting_ones   the first synthetic.n_categorical are binary (choice(0, 1) or int(0, 1)),
//                   every other one numeric within [0, 1]
//   learning_curve  every hyperparameter: Domain::to_unit, categoricals index / (n - 1)
// "Numeric" means uniform, loguniform, int, or a choice/grid of numbers only. Extra
// hyperparameters are ignored by branin and hartmann6.
class SyntheticObjective {
 public:
  // Throws ConfigError when the space does not fit the objective (see validate_synthetic).
  SyntheticObjective(const SyntheticOptions& options, const Space& space);

  // The value of configuration `hp` after `step` of `max_steps` steps, for a trial seeded `seed`.
  double value(const HParams& hp, int64_t step, int64_t max_steps, uint64_t seed) const;
  const std::string& name() const { return options_.objective; }

 private:
  std::vector<double> numeric_inputs(const HParams& hp, size_t n) const;
  std::vector<double> unit_inputs(const HParams& hp) const;

  SyntheticOptions options_;
  Space space_;
  std::vector<size_t> numeric_;  // indices of the numeric domains, in space order
};

// Checks that cfg.space fits cfg.synthetic.objective; throws ConfigError, e.g.
// "space: hartmann6 needs 6 numeric hyperparameters in [0, 1]; found 2".
void validate_synthetic(const ExperimentConfig& cfg);

// The Trainable of `trainable = synthetic`: each train_step() advances one step, sleeps
// synthetic.step_cost_ms to simulate compute, and returns the objective at the new step.
constexpr int kSyntheticTestDocuments = 200;

class SyntheticTrainable final : public Trainable {
 public:
  SyntheticTrainable(const SyntheticOptions& options, const Space& space);

  void start(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) override;
  int64_t step() const override { return step_; }
  StepResult train_step() override;
  double evaluate() override;
  // kSyntheticTestDocuments "documents" of 8..31 "tokens", the same for every trial: document i
  // has a fixed difficulty offset d_i ~ N(0, 0.1^2) (seeded by its index only) and the loss of
  // each of its tokens is the objective's value + d_i, so two trials' test losses differ by
  // their values and a paired comparison sees the same documents.
  DocumentLosses evaluate_test_documents() override;
  void release() override;
  void save_checkpoint(const std::string& dir) override;
  void load_checkpoint(const std::string& dir, int64_t trial, const HParams& hp) override;
  std::vector<uint8_t> save_state() override;
  void load_state(const std::vector<uint8_t>& bytes, int64_t trial, const HParams& hp) override;
  void update_hparams(const HParams& hp) override;

 private:
  SyntheticObjective objective_;
  double step_cost_ms_;
  bool started_ = false;
  int64_t trial_ = -1;
  HParams hp_;
  uint64_t seed_ = 0;
  int64_t max_steps_ = 1;
  int64_t step_ = 0;
};

// Validates (validate_synthetic) and builds the synthetic trainable for this experiment.
std::unique_ptr<Trainable> make_synthetic_trainable(const ExperimentConfig& cfg);

}  // namespace mpitune
