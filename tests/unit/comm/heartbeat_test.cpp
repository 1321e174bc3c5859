// The leader's heartbeat thread: beats only while busy and progressing, stops at idle() and
// when the main thread stalls, and its period follows the coordinator's timeout.
#include "mpitune/comm/heartbeat.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

namespace mpitune {
namespace {

using std::chrono::duration;
using std::chrono::milliseconds;
constexpr duration<double> kLong{10.0};  // a wait that only a broken heartbeat would reach

TEST(Heartbeat, IntervalIsATenthOfTheTimeoutWithinOneAndThirtySeconds) {
  EXPECT_DOUBLE_EQ(heartbeat_interval_s(300), 30);
  EXPECT_DOUBLE_EQ(heartbeat_interval_s(100), 10);
  EXPECT_DOUBLE_EQ(heartbeat_interval_s(5), 1);      // never faster than 1 s
  EXPECT_DOUBLE_EQ(heartbeat_interval_s(3600), 30);  // never slower than 30 s
  EXPECT_DOUBLE_EQ(heartbeat_interval_s(0), 0);      // no timeout: no heartbeats
}

TEST(Heartbeat, QuietUntilBusyThenBeatsUntilIdle) {
  std::atomic<int> sent{0};
  Heartbeat hb(milliseconds(1), kLong, [&] { ++sent; });
  ASSERT_TRUE(hb.wait_for_wakeups(3, kLong));
  EXPECT_EQ(sent.load(), 0);  // not busy yet: the group has not started working

  hb.busy();
  ASSERT_TRUE(hb.wait_for_wakeups(3, kLong));
  EXPECT_GE(sent.load(), 2);  // at least every wake but the one under way when busy() came
  EXPECT_EQ(hb.beats(), sent.load());

  hb.idle();
  const int at_idle = sent.load();
  ASSERT_TRUE(hb.wait_for_wakeups(5, kLong));
  EXPECT_EQ(sent.load(), at_idle);  // none after idle() returned
}

TEST(Heartbeat, AStalledMainThreadStopsTheBeats) {
  std::atomic<int> sent{0};
  // A stall limit far below the waits below: once the main thread stops marking progress the
  // beats end, as they must for a leader stuck in a collective with a stopped peer.
  Heartbeat hb(milliseconds(1), milliseconds(20), [&] { ++sent; });
  hb.busy();
  // Wake until the limit has surely passed (at least 20 wakes of >= 1 ms each), then some more.
  ASSERT_TRUE(hb.wait_for_wakeups(40, kLong));
  const int after_stall = sent.load();
  EXPECT_GE(after_stall, 1);
  ASSERT_TRUE(hb.wait_for_wakeups(5, kLong));
  EXPECT_EQ(sent.load(), after_stall);
  hb.busy();  // progress again: beats again
  ASSERT_TRUE(hb.wait_for_wakeups(3, kLong));
  EXPECT_GT(sent.load(), after_stall);
}

TEST(Heartbeat, AFailedBeatIsKeptAndEndsTheBeats) {
  std::atomic<int> calls{0};
  Heartbeat hb(milliseconds(1), kLong, [&] {
    ++calls;
    throw std::runtime_error("MPI_Isend failed");
  });
  hb.busy();
  ASSERT_TRUE(hb.wait_for_wakeups(4, kLong));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(hb.beats(), 0);
  ASSERT_TRUE(hb.error().has_value());
  EXPECT_EQ(*hb.error(), "MPI_Isend failed");
}

TEST(Heartbeat, DestructionStopsAThreadThatWaitsALongPeriod) {
  // A 1-hour period: the destructor must wake the thread rather than wait for its next beat.
  const auto t0 = std::chrono::steady_clock::now();
  { Heartbeat hb(std::chrono::hours(1), kLong, [] {}); }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

}  // namespace
}  // namespace mpitune
