// Synthetic objectives: known optima, the multi-fidelity terms, seeding, and the synthetic
// Trainable with its config validation.
#include <gtest/gtest.h>

#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/objective/synthetic.hpp"

namespace mpitune {
namespace {

constexpr double kPi = 3.14159265358979323846;

std::array<double, 6> random_point(Rng& rng) {
  std::array<double, 6> x;
  for (double& v : x) v = rng.uniform01();
  return x;
}

TEST(Branin, MinimumAtAllThreeMinimisers) {
  EXPECT_NEAR(branin(-kPi, 12.275), 0.397887, 1e-6);
  EXPECT_NEAR(branin(kPi, 2.275), 0.397887, 1e-6);
  EXPECT_NEAR(branin(9.42478, 2.475), 0.397887, 1e-6);
  EXPECT_NEAR(kBraninMinimum, 0.397887, 1e-6);
  Rng rng(1);
  for (int i = 0; i < 2000; ++i)
    EXPECT_GE(branin(rng.uniform(-5, 10), rng.uniform(0, 15)), kBraninMinimum - 1e-12);
  EXPECT_NEAR(branin(0, 0), 55.60211, 1e-4);  // a point away from the minima, by hand
}

TEST(Hartmann6, MinimumAtTheKnownArgmin) {
  EXPECT_NEAR(hartmann6(kHartmann6Argmin), -3.32237, 1e-5);
  EXPECT_NEAR(hartmann6({0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}), -3.32237, 1e-5);
  Rng rng(2);
  for (int i = 0; i < 2000; ++i) EXPECT_GE(hartmann6(random_point(rng)), kHartmann6Minimum - 1e-12);
}

TEST(MfHartmann6, FullFidelityIsPlainHartmann) {
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    const auto x = random_point(rng);
    EXPECT_DOUBLE_EQ(mf_hartmann6(x, 100, 0.5, 0.1, i), hartmann6(x));
  }
  EXPECT_NEAR(mf_hartmann6(kHartmann6Argmin, 100, 0.5, 0.1, 7), -3.32237, 1e-5);
}

TEST(MfHartmann6, BiasFlattensLowFidelity) {
  // Without noise, alpha' = alpha - bias (1 - s): at z = 1 every well is 0.5 shallower.
  const auto& x = kHartmann6Argmin;
  const double low = mf_hartmann6(x, 1, 0.5, 0.0, 0);
  const double mid = mf_hartmann6(x, 10, 0.5, 0.0, 0);  // s = 0.5
  EXPECT_GT(low, mid);
  EXPECT_GT(mid, hartmann6(x));
  EXPECT_DOUBLE_EQ(mf_hartmann6(x, 37, 0.0, 0.0, 5), hartmann6(x));  // bias 0, noise 0: plain
}

TEST(MfHartmann6, NoiseIsNonNegativeSeededAndShrinks) {
  Rng rng(4);
  int differ = 0;
  double sum_low = 0, sum_high = 0;
  for (int i = 0; i < 300; ++i) {
    const auto x = random_point(rng);
    const double plain = hartmann6(x);
    const double n1 = mf_hartmann6(x, 1, 0.0, 0.1, i) - plain;
    const double n50 = mf_hartmann6(x, 50, 0.0, 0.1, i) - plain;
    EXPECT_GE(n1, 0);
    EXPECT_GE(n50, 0);
    sum_low += n1;
    sum_high += n50;
    EXPECT_EQ(mf_hartmann6(x, 1, 0.0, 0.1, i), mf_hartmann6(x, 1, 0.0, 0.1, i));  // seeded
    differ += mf_hartmann6(x, 1, 0.0, 0.1, i) != mf_hartmann6(x, 1, 0.0, 0.1, i + 1000);
  }
  EXPECT_GT(differ, 290);
  // E|N(0,1)| = 0.798: mean noise 0.0798 at z = 1 and (1 - log 50 / log 100) times that at 50.
  EXPECT_NEAR(sum_low / 300, 0.0798, 0.012);
  EXPECT_LT(sum_high, sum_low * 0.3);
}

TEST(MfHartmann6, CostFormula) {
  EXPECT_DOUBLE_EQ(mf_hartmann6_cost(100), 1.0);
  EXPECT_DOUBLE_EQ(mf_hartmann6_cost(50), 0.05 + 0.95 * 0.25);
  EXPECT_DOUBLE_EQ(mf_hartmann6_cost(1), 0.05 + 0.95 * 1e-4);
}

TEST(Fidelity, FromStep) {
  EXPECT_EQ(fidelity_of_step(37, 100), 37);  // max_t = 100: z is the step
  EXPECT_EQ(fidelity_of_step(100, 100), 100);
  EXPECT_EQ(fidelity_of_step(0, 100), 1);
  EXPECT_EQ(fidelity_of_step(5, 10), 50);
  EXPECT_EQ(fidelity_of_step(15, 1000), 2);  // 1.5 rounds up
  EXPECT_EQ(fidelity_of_step(2000, 1000), 100);
}

TEST(CountingOnes, OptimumAndBudget) {
  const std::vector<int> ones{1, 1, 1};
  const std::vector<double> cont_ones{1.0, 1.0};
  for (int64_t b : {1, 7, 100}) EXPECT_DOUBLE_EQ(counting_ones(ones, cont_ones, b, 9), -5.0);
  EXPECT_DOUBLE_EQ(counting_ones({0, 0}, {0.0, 0.0}, 50, 9), 0.0);
  // Half probabilities: a noisy estimate at low budget, close to -N/2 at a large one.
  const std::vector<double> half(8, 0.5);
  EXPECT_NEAR(counting_ones({}, half, 4000, 1), -4.0, 0.1);
  EXPECT_EQ(counting_ones({1}, half, 10, 1), counting_ones({1}, half, 10, 1));
  EXPECT_NE(counting_ones({}, half, 10, 1), counting_ones({}, half, 10, 2));
  // A larger budget extends the same draws: going from b to b + 1 adds one draw, 0 or 1.
  for (int64_t b = 1; b < 40; ++b) {
    const double ones_b = -counting_ones({}, {0.3}, b, 4) * double(b);
    const double ones_next = -counting_ones({}, {0.3}, b + 1, 4) * double(b + 1);
    const double added = std::round(ones_next - ones_b);
    EXPECT_TRUE(added == 0 || added == 1) << b;
    EXPECT_NEAR(ones_next - ones_b, added, 1e-9);
  }
  // Budget 1 is one draw per dimension: every term is 0 or 1.
  const double v = counting_ones({}, half, 1, 3);
  EXPECT_EQ(v, std::round(v));
}

TEST(LearningCurve, MeanDecreasesAndNoiseIsSeeded) {
  const std::vector<double> u{0.3, 0.8, 0.1};
  for (int64_t t = 0; t < 100; ++t)
    EXPECT_GT(learning_curve_loss(t, 100, u, 0, 0.0), learning_curve_loss(t + 1, 100, u, 0, 0.0)) << t;
  // With noise, the average over seeds still decreases from one tenth of training to the next.
  double prev = 1e9;
  for (int64_t t = 0; t <= 100; t += 10) {
    double sum = 0;
    for (uint64_t seed = 0; seed < 200; ++seed) sum += learning_curve_loss(t, 100, u, seed, 0.1);
    EXPECT_LT(sum / 200, prev) << t;
    prev = sum / 200;
  }
  EXPECT_EQ(learning_curve_loss(17, 100, u, 5, 0.1), learning_curve_loss(17, 100, u, 5, 0.1));
  EXPECT_NE(learning_curve_loss(17, 100, u, 5, 0.1), learning_curve_loss(17, 100, u, 6, 0.1));
  EXPECT_DOUBLE_EQ(learning_curve_loss(0, 100, u, 5, 0.0), 3.0);  // every curve starts at 3
}

TEST(LearningCurve, FastStarterIsNotTheBestFinisher) {
  // The best configuration c = (0.5708, 0.3416, 0.7125) against one that only moves u_0 to 1:
  // it converges faster (k = 8 vs 5.42) to a worse floor (0.323 vs 0.2).
  const std::vector<double> best{0.2 + 0.6 * 0.618034, 0.2 + 0.6 * 0.236068, 0.2 + 0.6 * 0.854102};
  const std::vector<double> fast{1.0, best[1], best[2]};
  EXPECT_LT(learning_curve_loss(10, 100, fast, 0, 0.0), learning_curve_loss(10, 100, best, 0, 0.0));
  EXPECT_GT(learning_curve_loss(100, 100, fast, 0, 0.0), learning_curve_loss(100, 100, best, 0, 0.0));
  EXPECT_NEAR(learning_curve_loss(100, 100, best, 0, 0.0), 0.2 + 2.8 * std::exp(-(2 + 6 * best[0])), 1e-5);
}

TEST(LearningCurve, EarlyRanksInformativeButNotPerfect) {
  // Fraction of trial pairs whose order at 10% of training matches their final order.
  Rng rng(8);
  std::vector<std::vector<double>> us;
  for (int i = 0; i < 60; ++i) us.push_back({rng.uniform01(), rng.uniform01(), rng.uniform01()});
  int agree = 0, pairs = 0;
  for (size_t i = 0; i < us.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const bool early = learning_curve_loss(10, 100, us[i], i, 0.1) < learning_curve_loss(10, 100, us[j], j, 0.1);
      const bool final = learning_curve_loss(100, 100, us[i], i, 0.0) < learning_curve_loss(100, 100, us[j], j, 0.0);
      agree += early == final;
      ++pairs;
    }
  const double frac = double(agree) / pairs;
  EXPECT_GT(frac, 0.6);
  EXPECT_LT(frac, 0.9);
}

ExperimentConfig synthetic_config(const std::string& objective, const std::vector<std::string>& specs) {
  ExperimentConfig cfg;
  cfg.experiment.trainable = "synthetic";
  cfg.synthetic.objective = objective;
  std::vector<Domain> doms;
  for (size_t i = 0; i < specs.size(); ++i) doms.push_back(Space::parse_domain("x" + std::to_string(i + 1), specs[i]));
  cfg.space = Space(doms);
  return cfg;
}

HParams point(const std::vector<ParamValue>& values) {
  HParams hp;
  for (size_t i = 0; i < values.size(); ++i) hp.set("x" + std::to_string(i + 1), values[i]);
  return hp;
}

TEST(SyntheticTrainable, Hartmann6EndToEnd) {
  ExperimentConfig cfg = synthetic_config("hartmann6", std::vector<std::string>(6, "uniform(0, 1)"));
  auto t = make_synthetic_trainable(cfg);
  std::vector<ParamValue> xs(kHartmann6Argmin.begin(), kHartmann6Argmin.end());
  const HParams hp = point(xs);
  t->start(3, hp, 77, 100);
  EXPECT_EQ(t->step(), 0);
  std::vector<double> losses;
  for (int i = 0; i < 100; ++i) {
    const StepResult r = t->train_step();
    EXPECT_EQ(r.lr, 0);
    EXPECT_EQ(r.tokens, 0);
    losses.push_back(r.loss);
    // Fidelity z = step with max_steps = 100; the trial seed drives the noise.
    EXPECT_DOUBLE_EQ(r.loss, mf_hartmann6(kHartmann6Argmin, i + 1, 0.5, 0.1, 77));
  }
  EXPECT_EQ(t->step(), 100);
  EXPECT_NEAR(t->evaluate(), -3.32237, 1e-5);
  EXPECT_LT(losses.back(), losses.front());
  // The same seed replays the same losses; release() forgets the trial.
  t->release();
  EXPECT_EQ(t->step(), 0);
  EXPECT_THROW(t->train_step(), InfraError);
  t->start(4, hp, 77, 100);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(t->train_step().loss, losses[static_cast<size_t>(i)]);
}

TEST(SyntheticTrainable, BraninIsSingleFidelity) {
  ExperimentConfig cfg = synthetic_config("branin", {"uniform(-5, 10)", "choice(adam, sgd)", "uniform(0, 15)"});
  auto t = make_synthetic_trainable(cfg);
  t->start(0, point({kPi, "sgd", 2.275}), 1, 10);
  EXPECT_NEAR(t->evaluate(), kBraninMinimum, 1e-9);  // the string choice is skipped
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(t->train_step().loss, kBraninMinimum, 1e-9);
}

TEST(SyntheticTrainable, CountingOnesUsesBinaryThenContinuous) {
  ExperimentConfig cfg = synthetic_config("counting_ones", {"choice(0, 1)", "int(0, 1)", "uniform(0, 1)", "uniform(0, 1)"});
  cfg.synthetic.n_categorical = 2;
  auto t = make_synthetic_trainable(cfg);
  t->start(0, point({1, 1, 1.0, 1.0}), 5, 20);
  EXPECT_DOUBLE_EQ(t->evaluate(), -4.0);  // the optimum at every fidelity
  t->start(1, point({0, 1, 0.0, 0.5}), 5, 20);
  for (int i = 0; i < 20; ++i) t->train_step();
  // Step 20 of 20 is budget 100: 1 + the mean of 100 draws of Bernoulli(0.5).
  EXPECT_DOUBLE_EQ(t->evaluate(), counting_ones({0, 1}, {0.0, 0.5}, 100, 5));
}

TEST(SyntheticTrainable, LearningCurveUsesUnitCoordinates) {
  ExperimentConfig cfg = synthetic_config("learning_curve", {"loguniform(1e-4, 1e-2)", "choice(a, b, c)", "int(0, 4)"});
  cfg.synthetic.noise = 0.05;
  auto t = make_synthetic_trainable(cfg);
  t->start(0, point({1e-3, "c", 1}), 9, 50);
  for (int i = 0; i < 10; ++i) t->train_step();
  // lr -> 0.5 (log midpoint), "c" -> index 2 of 3 -> 1.0, int 1 of [0, 4] -> 0.25.
  EXPECT_NEAR(t->evaluate(), learning_curve_loss(10, 50, {0.5, 1.0, 0.25}, 9, 0.05), 1e-12);
}

std::string validation_field(const ExperimentConfig& cfg, std::string* what = nullptr) {
  try {
    validate_synthetic(cfg);
  } catch (const ConfigError& e) {
    if (what) *what = e.what();
    return e.field();
  }
  return "";
}

TEST(SyntheticTrainable, ValidationErrors) {
  std::string what;
  EXPECT_EQ(validation_field(synthetic_config("hartmann6", {"uniform(0, 1)", "uniform(0, 1)"}), &what), "space");
  EXPECT_NE(what.find("hartmann6 needs 6 numeric hyperparameters in [0, 1]; found 2"), std::string::npos) << what;
  // A string choice is not numeric, and a bound outside [0, 1] names its hyperparameter.
  std::vector<std::string> six(6, "uniform(0, 1)");
  six[2] = "uniform(0, 2)";
  EXPECT_EQ(validation_field(synthetic_config("hartmann6", six)), "space.x3");
  six[2] = "grid(0, 0.5, 1)";  // a numeric grid in [0, 1] is fine
  EXPECT_EQ(validation_field(synthetic_config("hartmann6", six)), "");
  EXPECT_EQ(validation_field(synthetic_config("branin", {"uniform(-5, 10)", "choice(a, b)"})), "space");

  ExperimentConfig co = synthetic_config("counting_ones", {"choice(0, 1)", "uniform(0, 1)"});
  co.synthetic.n_categorical = 3;
  EXPECT_EQ(validation_field(co), "synthetic.n_categorical");
  co.synthetic.n_categorical = 2;  // uniform(0, 1) is not binary
  EXPECT_EQ(validation_field(co), "space.x2");
  co.synthetic.n_categorical = 1;
  EXPECT_EQ(validation_field(co), "");
  // With n_categorical = 0 every dimension is continuous and must lie in [0, 1].
  EXPECT_EQ(validation_field(synthetic_config("counting_ones", {"choice(0, 2)"})), "space.x1");
  EXPECT_EQ(validation_field(synthetic_config("counting_ones", {"choice(a, b)"})), "space.x1");
}

TEST(SyntheticTrainable, LearningCurveAcceptsAnySpaceAndUnknownObjectiveFails) {
  EXPECT_EQ(validation_field(synthetic_config("learning_curve", {"choice(a)", "uniform(-3, 3)"})), "");
  EXPECT_EQ(validation_field(synthetic_config("rosenbrock", {"uniform(0, 1)"})), "synthetic.objective");
  EXPECT_THROW(make_synthetic_trainable(synthetic_config("branin", {"uniform(0, 1)"})), ConfigError);
}

}  // namespace
}  // namespace mpitune
