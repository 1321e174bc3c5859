// Back-off for polling loops, so a rank that waits does not keep a core busy.
//
// Open MPI's blocking calls spin; on a laptop or CI runner with more ranks than cores, a
// spinning coordinator or idle group steals the cores the training ranks need. Waiting ranks
// poll (MPI_Iprobe / MPI_Test) and sleep between polls, from 20 us doubling up to `max_sleep`,
// resetting whenever something arrives.
#pragma once

#include <chrono>
#include <thread>

namespace mpitune {

class Backoff {
 public:
  explicit Backoff(std::chrono::microseconds max_sleep = std::chrono::milliseconds(5))
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
