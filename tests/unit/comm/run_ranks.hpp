// Runs a function once per rank of an in-process fake group, each rank on its own thread (as
// ranks would be processes), and rethrows the first exception a rank threw. Shared by the comm
// and train unit tests (the product's run_fake_ranks).
#pragma once

#include "mpitune/comm/fake_ranks.hpp"

namespace mpitune::testing {

inline void run_ranks(int size, const std::function<void(std::shared_ptr<Collectives>)>& body) {
  run_fake_ranks(size, body);
}

}  // namespace mpitune::testing
