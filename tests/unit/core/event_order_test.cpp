#include <gtest/gtest.h>

#include "mpitune/coord/event_order.hpp"

namespace mpitune {
namespace {

SegmentMsg segment(int64_t start, int64_t stop) {
  SegmentMsg s;
  s.trial = 0, s.start = start, s.stop = stop;
  return s;
}

TEST(DeterministicOrder, ReleasesMessagesInVirtualTimeOrderWhateverTheArrivalOrder) {
  DeterministicOrder order(2);
  // Group 1's Ready arrives first, but group 0 might still send its Ready at time 0: hold it.
  order.push(1, ReadyMsg{1});
  EXPECT_FALSE(order.pop().has_value());
  order.push(0, ReadyMsg{0});
  auto e = order.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->group, 0);
  order.on_order(0, segment(0, 5), e->vtime);  // group 0 trains steps 1..5 from time 0
  e = order.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->group, 1);
  order.on_order(1, segment(0, 3), e->vtime);  // group 1 trains steps 1..3 from time 0

  // Group 1 finishes at virtual time 3 before group 0 says anything: group 0 could still
  // report at time 1 or 2, so group 1's result waits.
  order.push(1, SegmentDoneMsg{1, 0, 3, {}, 0.1, false});
  EXPECT_FALSE(order.pop().has_value());
  order.push(0, ReportMsg{0, 0, 2, {}});  // time 2
  e = order.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->group, 0);
  EXPECT_EQ(e->vtime, 2);
  EXPECT_FALSE(order.pop().has_value());  // group 0 could still send something at time 3 (tie: lower group first)
  order.push(0, SegmentDoneMsg{0, 0, 5, {}, 0.1, false});  // time 5
  e = order.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->group, 1);
  EXPECT_EQ(e->vtime, 3);
  e = order.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->group, 0);
  EXPECT_EQ(e->vtime, 5);
  EXPECT_FALSE(order.pop().has_value());
}

TEST(DeterministicOrder, ASegmentContinuesTheClockFromItsTrigger) {
  DeterministicOrder order(1);
  order.push(0, ReadyMsg{0});
  auto e = order.pop();
  ASSERT_TRUE(e);
  order.on_order(0, segment(0, 3), e->vtime);
  order.push(0, SegmentDoneMsg{0, 0, 3, {}, 0, false});
  e = order.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->vtime, 3);
  order.on_order(0, segment(3, 9), e->vtime);  // promoted: steps 4..9 from time 3
  order.push(0, TrialFailedMsg{0, 0, 7, "boom", 0});
  e = order.pop();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->vtime, 7);
}

}  // namespace
}  // namespace mpitune
