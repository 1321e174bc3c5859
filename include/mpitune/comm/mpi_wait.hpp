// Waiting for a non-blocking MPI operation without keeping a core busy: MPI_Test, then sleep
// with back-off (Backoff), until it completes. Open MPI's MPI_Wait spins; ranks that may wait
// long (for an order, for a PBT source to reach its step boundary) use this instead.
#pragma once

#include <chrono>

#include "mpitune/comm/backoff.hpp"
#include "mpitune/comm/mpi_check.hpp"

namespace mpitune {

inline void wait_sleeping(MPI_Request* req, std::chrono::microseconds max_sleep = std::chrono::milliseconds(2)) {
  Backoff backoff(max_sleep);
  for (;;) {
    int done = 0;
    MPI_CHECK(MPI_Test(req, &done, MPI_STATUS_IGNORE));
    if (done) return;
    backoff.pause();
  }
}

}  // namespace mpitune
