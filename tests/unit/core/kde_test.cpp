// BOHB's KDE pieces and fit rules: the normal-reference bandwidth and its floor/cap, the
// Gaussian and Aitchison-Aitken kernels, pdf composition, HpBandSter's n_good / n_bad sizes and
// disjoint split, when a budget has a model and which budget's model is used.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "mpitune/search/kde.hpp"

namespace mpitune {
namespace {

TEST(Kde, NormalReferenceBandwidth) {
  // std (ddof 0) of {0, 1} is 0.5; 1.06 * 0.5 * 2^(-1/5) = 0.461391...
  EXPECT_NEAR(normal_reference_bandwidth({0, 1}, 1), 0.4613918, 1e-6);
  // {0.2, 0.4, 0.6, 0.8}: std sqrt(0.05), d = 2: 1.06 * 0.2236068 * 4^(-1/6) = 0.188126...
  EXPECT_NEAR(normal_reference_bandwidth({0.2, 0.4, 0.6, 0.8}, 2), 0.1881259, 1e-6);
  EXPECT_EQ(normal_reference_bandwidth({0.3, 0.3, 0.3}, 1), 0.0);
}

TEST(Kde, BandwidthIsFlooredAndCategoricalCapped) {
  const std::vector<KdeDim> dims{{false, 0}, {true, 3}, {true, 2}};
  // Column 0 constant -> floor; column 1 indices {0, 2, 0, 2}: 1.06 * 1 * 4^(-1/7) = 0.872 > 2/3;
  // column 2 constant category -> floor.
  const Kde k(dims, {{0.5, 0, 1}, {0.5, 2, 1}, {0.5, 0, 1}, {0.5, 2, 1}}, 1e-3);
  ASSERT_EQ(k.bandwidths().size(), 3u);
  EXPECT_DOUBLE_EQ(k.bandwidths()[0], 1e-3);
  EXPECT_DOUBLE_EQ(k.bandwidths()[1], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(k.bandwidths()[2], 1e-3);
  const Kde wide({{false, 0}}, {{0.5}, {0.5}}, 0.05);
  EXPECT_DOUBLE_EQ(wide.bandwidths()[0], 0.05);
}

TEST(Kde, Kernels) {
  EXPECT_NEAR(gaussian_kernel(0.5, 0.5, 0.1), 1 / (std::sqrt(2 * M_PI) * 0.1), 1e-12);
  EXPECT_NEAR(gaussian_kernel(0.6, 0.5, 0.1), std::exp(-0.5) / (std::sqrt(2 * M_PI) * 0.1), 1e-12);
  // Aitchison-Aitken: 1 - bw on the same category, bw / (c - 1) elsewhere, summing to 1.
  EXPECT_DOUBLE_EQ(aitchison_aitken_kernel(1, 1, 0.2, 4), 0.8);
  EXPECT_DOUBLE_EQ(aitchison_aitken_kernel(1, 3, 0.2, 4), 0.2 / 3);
  double sum = 0;
  for (int c = 0; c < 4; ++c) sum += aitchison_aitken_kernel(c, 2, 0.2, 4);
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(aitchison_aitken_kernel(0, 0, 0.0, 1), 1.0);
}

TEST(Kde, PdfIsTheMeanOfKernelProducts) {
  const std::vector<KdeDim> dims{{false, 0}, {true, 2}};
  const Kde k(dims, {{0.2, 0}, {0.8, 1}}, 1e-3);
  const double bc = k.bandwidths()[0], bu = k.bandwidths()[1];
  EXPECT_NEAR(bc, 1.06 * 0.3 * std::pow(2.0, -1.0 / 6), 1e-12);
  const double expected = 0.5 * (gaussian_kernel(0.3, 0.2, bc) * (1 - bu) + gaussian_kernel(0.3, 0.8, bc) * bu);
  EXPECT_NEAR(k.pdf({0.3, 0}), expected, 1e-12);
  EXPECT_GT(k.pdf({0.2, 0}), k.pdf({0.2, 1}));
  EXPECT_GT(k.pdf({0.2, 0}), k.pdf({0.5, 0}));
}

TEST(BohbRules, GoodAndBadSizesFollowHpBandSter) {
  // d = 2 -> N_min = 3; top_n_percent = 15.
  EXPECT_EQ(bohb_n_good(6, 3, 15), 3u);
  EXPECT_EQ(bohb_n_bad(6, 3, 15), 5u);      // 85 * 6 // 100 = 5
  EXPECT_EQ(bohb_n_good(20, 3, 15), 3u);    // 300 // 100 = 3
  EXPECT_EQ(bohb_n_bad(20, 3, 15), 17u);
  EXPECT_EQ(bohb_n_good(100, 3, 15), 15u);
  EXPECT_EQ(bohb_n_bad(100, 3, 15), 85u);
  EXPECT_EQ(bohb_n_good(101, 3, 15), 15u);  // 1515 // 100
  EXPECT_EQ(bohb_n_bad(101, 3, 15), 85u);   // 8585 // 100
  EXPECT_EQ(bohb_n_good(40, 3, 15), 6u);
  EXPECT_EQ(bohb_n_bad(40, 3, 15), 34u);
}

Space two_d() {
  return Space({Space::parse_domain("x", "uniform(0, 1)"), Space::parse_domain("y", "uniform(0, 1)")});
}

HParams xy(double x, double y) {
  HParams hp;
  hp.set("x", x);
  hp.set("y", y);
  return hp;
}

// Observes n points at `budget` with loss = x (so the good set is the lowest x).
void feed(BohbModel& m, TrialId first, int n, double budget) {
  for (int i = 0; i < n; ++i) {
    const double x = (i + 0.5) / n;
    m.observe(first + i, xy(x, 1 - x), budget, x);
  }
}

TEST(BohbRules, ModelNeedsMoreRowsThanDimensionsInBothSets) {
  BohbModel m(two_d(), BohbOptions{});
  EXPECT_EQ(m.min_points(), 3u);
  for (int n = 1; n <= 8; ++n) {
    BohbModel fresh(two_d(), BohbOptions{});
    feed(fresh, 0, n, 1);
    EXPECT_EQ(fresh.count(1), static_cast<size_t>(n));
    // N = 3..5: good takes 3, bad gets N - 3 <= 2 rows: not more than d = 2.
    EXPECT_EQ(fresh.has_model(1), n >= 6) << n;
    EXPECT_EQ(fresh.fit(1).has_value(), n >= 6) << n;
  }
  BohbModel seven(two_d(), BohbOptions{});
  feed(seven, 0, 7, 1);
  EXPECT_EQ(seven.good_rows(1), 3u);
  EXPECT_EQ(seven.bad_rows(1), 4u);  // n_bad = 5, but only 7 - 3 rows follow the good ones
  BohbModel many(two_d(), BohbOptions{});
  feed(many, 0, 101, 1);
  EXPECT_EQ(many.good_rows(1), 15u);
  EXPECT_EQ(many.bad_rows(1), 85u);  // positions 15..99: the worst point is in neither set
}

TEST(BohbRules, MinPointsIsRaisedToDPlusOne) {
  BohbOptions o;
  o.min_points_in_model = 1;
  EXPECT_EQ(BohbModel(two_d(), o).min_points(), 3u);
  o.min_points_in_model = 10;
  BohbModel m(two_d(), o);
  EXPECT_EQ(m.min_points(), 10u);
  feed(m, 0, 9, 1);
  EXPECT_FALSE(m.has_model(1));  // 9 < 10 even though the split would have enough rows
  feed(m, 100, 1, 1);
  // N = 10: n_good = max(10, 1) = 10 takes everything; bad is empty.
  EXPECT_FALSE(m.has_model(1));
  feed(m, 200, 11, 1);
  EXPECT_TRUE(m.has_model(1));  // N = 21: good 10, bad 11
}

TEST(BohbRules, LargestBudgetWithAModelWins) {
  BohbModel m(two_d(), BohbOptions{});
  EXPECT_FALSE(m.model_budget().has_value());
  feed(m, 0, 6, 1);
  ASSERT_TRUE(m.model_budget().has_value());
  EXPECT_EQ(*m.model_budget(), 1);
  feed(m, 100, 5, 9);  // not enough at 9 yet
  EXPECT_EQ(*m.model_budget(), 1);
  feed(m, 200, 2, 27);
  EXPECT_EQ(*m.model_budget(), 1);
  m.observe(300, xy(0.5, 0.5), 9, 0.5);
  EXPECT_EQ(*m.model_budget(), 9);
}

TEST(BohbRules, LatestObservationOfATrialPerBudgetWins) {
  BohbModel m(two_d(), BohbOptions{});
  feed(m, 0, 6, 1);
  // Trial 0 (x = 1/12, best) is observed again with a bad loss: it moves to the bad set.
  m.observe(0, xy(0.99, 0.01), 1, 5.0);
  EXPECT_EQ(m.count(1), 6u);
  const auto fit = m.fit(1);
  ASSERT_TRUE(fit.has_value());
  for (const auto& row : fit->good.rows()) EXPECT_NE(row[0], 0.99);
  bool in_bad = false;
  for (const auto& row : fit->bad.rows()) in_bad |= row[0] == 0.99;
  EXPECT_TRUE(in_bad);
}

TEST(BohbRules, NonFiniteLossesCountAsWorst) {
  BohbModel m(two_d(), BohbOptions{});
  m.observe(0, xy(0.9, 0.9), 1, std::numeric_limits<double>::quiet_NaN());
  m.observe(1, xy(0.8, 0.8), 1, -std::numeric_limits<double>::infinity());  // HpBandSter: +inf
  for (int i = 2; i < 8; ++i) m.observe(i, xy(0.1 * i, 0.5), 1, 1.0 + i);
  const auto fit = m.fit(1);
  ASSERT_TRUE(fit.has_value());
  // Good: the three best finite losses (x = 0.2, 0.3, 0.4); bad: the rest, infinities last.
  ASSERT_EQ(fit->good.rows().size(), 3u);
  EXPECT_DOUBLE_EQ(fit->good.rows()[0][0], 0.2);
  EXPECT_DOUBLE_EQ(fit->good.rows()[2][0], 0.4);
  ASSERT_EQ(fit->bad.rows().size(), 5u);
  EXPECT_DOUBLE_EQ(fit->bad.rows()[3][0], 0.9);  // ties keep arrival order
  EXPECT_DOUBLE_EQ(fit->bad.rows()[4][0], 0.8);
}

TEST(BohbRules, EncodingUsesTheUnitCube) {
  const Space space({Space::parse_domain("lr", "loguniform(1e-4, 1e-2)"), Space::parse_domain("n", "int(2, 6)"),
                     Space::parse_domain("opt", "choice(adam, sgd, rmsprop)")});
  const auto dims = kde_dims(space);
  ASSERT_EQ(dims.size(), 3u);
  EXPECT_FALSE(dims[0].categorical);
  EXPECT_FALSE(dims[1].categorical);
  EXPECT_TRUE(dims[2].categorical);
  EXPECT_EQ(dims[2].levels, 3);
  HParams hp;
  hp.set("lr", 1e-3);
  hp.set("n", int64_t{4});
  hp.set("opt", "rmsprop");
  const auto x = kde_encode(space, hp);
  EXPECT_NEAR(x[0], 0.5, 1e-12);
  EXPECT_NEAR(x[1], 0.5, 1e-12);
  EXPECT_EQ(x[2], 2);
  const HParams back = kde_decode(space, {0.5, 0.6, 1.4});  // ints and indices are rounded
  EXPECT_NEAR(back.at("lr").as_double(), 1e-3, 1e-15);
  EXPECT_EQ(back.at("n").as_int(), 4);  // 2 + 0.6 * 4 = 4.4 -> 4
  EXPECT_EQ(back.at("opt").as_string(), "sgd");
}

}  // namespace
}  // namespace mpitune
