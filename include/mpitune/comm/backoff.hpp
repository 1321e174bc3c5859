// Back-off for polling loops, so a rank that waits does not keep a core busy.
//
// Open MPI's blocking calls spin; on a laptop or CI runner with more ranks than cores, a
// spinning coordinator or idle group steals the cores the training ranks need. Waiting ranks
// poll (MPI_Iprobe / MPI_Test) and sleep between polls, from 20 us doubling up to `max_sleep`,
// resetting whenever something arrives.
//
// The cap is the latency a waiting rank adds to every message it waits for, twice per segment
// (the group waits for its order, rank 0 for the group's answer). With 5 ms, 1,000 segments of
// 20 ms on 4 groups took 8.2 s against a 5.0 s ideal (64% overhead, ~13 ms a segment); with
// 500 us, 5.5 s (11%), rank 0 then using 7% of a core instead of 4%. Rank 0 itself polls at
// most every 200 us (coordinator.cpp): the groups' idle time per segment went from 2.3 ms to
// 1.5-1.7 ms (measured on the busy 2-core machine); a group's own wait keeps 500 us, since
// idle groups (the tail of an experiment, a PBT barrier) would otherwise wake 5,000 times a
// second each.
#pragma once

#include <chrono>
#include <thread>

namespace mpitune {

class Backoff {
 public:
  explicit Backoff(std::chrono::microseconds max_sleep = std::chrono::microseconds(500))
      : max_(max_sleep) {}
  void reset() { cur_ = std::chrono::microseconds(20); }
  void pause() {
    std::this_thread::sleep_for(cur_);
    cur_ = std::min(max_, cur_ * 2);
  }

 private:
  std::chrono::microseconds max_;
  std::chrono::microseconds cur_{20};
};

}  // namespace mpitune
