// Runs a function once per rank of an in-process fake group (make_fake_group), each rank on its
// own thread as ranks would be processes, and rethrows the first exception a rank threw. Unit
// tests use it, and so does `mpitune export`, which loads a kept trial of a group of G ranks in
// one process. Every rank must make the same collective calls, as under MPI.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "mpitune/comm/collectives.hpp"

namespace mpitune {

inline void run_fake_ranks(int size, const std::function<void(std::shared_ptr<Collectives>)>& body) {
  const auto group = make_fake_group(size);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      try {
        body(group[static_cast<size_t>(r)]);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace mpitune
