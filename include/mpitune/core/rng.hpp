// Seeded random numbers that give the same sequence on every compiler and platform.
//
// std::uniform_real_distribution and friends are implementation-defined, so a seed would not
// reproduce an experiment across toolchains; everything here is spelled out bit for bit.
// Streams are derived, not shared: derive_seed(experiment_seed, "search", trial) gives each consumer
// its own independent stream, so the order in which trials are created does not change what
// any one of them draws.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace mpitune {

// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
uint64_t mix64(uint64_t x);

// A seed for one named consumer (tag) and index, from the experiment seed.
uint64_t derive_seed(uint64_t seed, std::string_view tag, uint64_t index = 0);

// xoshiro256** generator.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  uint64_t next_u64();
  double uniform01();                      // [0, 1), 53 random bits
  double uniform(double lo, double hi);    // [lo, hi)
  int64_t integer(int64_t lo, int64_t hi); // inclusive bounds, unbiased
  double normal();                         // standard normal (Box-Muller, no cached spare)
  bool bernoulli(double p);

  // The whole state, so a data position or a trial's RNG can be saved and moved exactly.
  using State = std::array<uint64_t, 4>;
  State state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  State s_;
};

}  // namespace mpitune
