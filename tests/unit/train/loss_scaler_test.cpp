// The dynamic loss scaler's rules: halving after the hysteresis is spent, growth after a clean
// window, the floor, and state round trips.
#include <gtest/gtest.h>

#include "mpitune/train/loss_scaler.hpp"

namespace mpitune {
namespace {

TEST(LossScaler, DefaultsAreDesigns) {
  DynamicLossScaler s;
  EXPECT_EQ(s.scale(), 65536.0);
  EXPECT_EQ(s.options().window, 1000);
  EXPECT_EQ(s.options().hysteresis, 2);
  EXPECT_EQ(s.options().min_scale, 1.0);
}

TEST(LossScaler, HysteresisAbsorbsOneOverflowThenEveryOverflowHalves) {
  DynamicLossScaler s;  // hysteresis 2
  s.update(true);
  EXPECT_EQ(s.scale(), 65536.0);  // the first overflow only spends hysteresis
  s.update(false);                // a clean step does not refill it (Megatron's rule)
  s.update(true);
  EXPECT_EQ(s.scale(), 32768.0);
  s.update(true);
  EXPECT_EQ(s.scale(), 16384.0);
}

TEST(LossScaler, GrowsAfterACleanWindowAndRefillsHysteresis) {
  LossScalerOptions o;
  o.initial_scale = 8;
  o.window = 3;
  o.hysteresis = 2;
  DynamicLossScaler s(o);
  s.update(true);  // hysteresis 1 left
  s.update(false);
  s.update(false);
  EXPECT_EQ(s.scale(), 8.0);
  s.update(false);  // third clean step in a row
  EXPECT_EQ(s.scale(), 16.0);
  s.update(true);   // hysteresis was refilled to 2: absorbed
  EXPECT_EQ(s.scale(), 16.0);
  s.update(false);
  s.update(false);
  s.update(true);   // the window restarted at the overflow; this one halves
  EXPECT_EQ(s.scale(), 8.0);
}

TEST(LossScaler, NeverGoesBelowTheMinimum) {
  LossScalerOptions o;
  o.initial_scale = 4;
  o.hysteresis = 1;
  o.min_scale = 1;
  DynamicLossScaler s(o);
  for (int i = 0; i < 5; ++i) s.update(true);
  EXPECT_EQ(s.scale(), 1.0);
}

TEST(LossScaler, StateRoundTrips) {
  DynamicLossScaler a;
  a.update(true);
  a.update(false);
  DynamicLossScaler b;
  b.set_state(a.state());
  for (bool overflow : {false, true, true, false}) {
    a.update(overflow);
    b.update(overflow);
    EXPECT_EQ(a.scale(), b.scale());
  }
}

}  // namespace
}  // namespace mpitune
