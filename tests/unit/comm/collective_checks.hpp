// The semantics every Collectives backend must have, written once and run on the in-process
// fake (tests/unit/comm) and on the MPI backend under mpirun (tests/mpi/zero3_collectives_test).
// Call check_collective_semantics on every rank of a group; it uses gtest's EXPECT macros.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune::testing {

inline void check_collective_semantics(Collectives& c) {
  const int g = c.size(), r = c.rank();

  // all_gather: rank q's block at q * count.
  {
    std::vector<float> in{10.f * r, 10.f * r + 1, 10.f * r + 2}, out(3 * static_cast<size_t>(g), -1.f);
    c.all_gather(in.data(), out.data(), 3, DType::F32);
    for (int q = 0; q < g; ++q)
      for (int i = 0; i < 3; ++i) EXPECT_EQ(out[3 * q + i], 10.f * q + i) << "rank " << r;
  }
  // all_gather_async of int64, finished by wait().
  {
    int64_t in = 1000 + r;
    std::vector<int64_t> out(static_cast<size_t>(g), 0);
    auto p = c.all_gather_async(&in, out.data(), 1, DType::I64);
    p->wait();
    for (int q = 0; q < g; ++q) EXPECT_EQ(out[q], 1000 + q);
  }
  // 16-bit floats move as bits.
  {
    const uint16_t bits = static_cast<uint16_t>(0x3F80 + r);  // bf16 1.0, 1.0078, ...
    std::vector<uint16_t> out(static_cast<size_t>(g));
    c.all_gather(&bits, out.data(), 1, DType::BF16);
    for (int q = 0; q < g; ++q) EXPECT_EQ(out[q], 0x3F80 + q);
  }
  // reduce_scatter sum: in[j] = rank + j; rank keeps block rank, summed over ranks.
  {
    const size_t count = 4;
    std::vector<float> in(count * static_cast<size_t>(g));
    for (size_t j = 0; j < in.size(); ++j) in[j] = static_cast<float>(r) + static_cast<float>(j);
    std::vector<float> out(count, -1.f);
    c.reduce_scatter(in.data(), out.data(), count, DType::F32, ReduceOp::Sum);
    const float rank_sum = static_cast<float>(g * (g - 1) / 2);
    for (size_t k = 0; k < count; ++k)
      EXPECT_EQ(out[k], rank_sum + static_cast<float>(g) * static_cast<float>(r * count + k));
  }
  // reduce_scatter max (int32), asynchronously.
  {
    std::vector<int32_t> in(2 * static_cast<size_t>(g));
    for (size_t j = 0; j < in.size(); ++j) in[j] = static_cast<int32_t>(r * 100 + j);
    std::vector<int32_t> out(2, 0);
    auto p = c.reduce_scatter_async(in.data(), out.data(), 2, DType::I32, ReduceOp::Max);
    p->wait();
    EXPECT_EQ(out[0], (g - 1) * 100 + 2 * r);
    EXPECT_EQ(out[1], (g - 1) * 100 + 2 * r + 1);
  }
  // all_reduce in place: sum, max, min; an inf on one rank reaches every rank.
  {
    double v[3] = {1.0 + r, static_cast<double>(r), static_cast<double>(-r)};
    c.all_reduce(v, 1, DType::F64, ReduceOp::Sum);
    EXPECT_EQ(v[0], g + g * (g - 1) / 2.0);
    c.all_reduce(v + 1, 1, DType::F64, ReduceOp::Max);
    EXPECT_EQ(v[1], g - 1);
    c.all_reduce(v + 2, 1, DType::F64, ReduceOp::Min);
    EXPECT_EQ(v[2], -(g - 1));
    float f = r == g - 1 ? std::numeric_limits<float>::infinity() : 1.f;
    c.all_reduce(&f, 1, DType::F32, ReduceOp::Sum);
    EXPECT_TRUE(std::isinf(f));
  }
  // broadcast from the last rank.
  {
    std::vector<uint8_t> b(5, static_cast<uint8_t>(r));
    c.broadcast(b.data(), b.size(), DType::U8, g - 1);
    for (uint8_t x : b) EXPECT_EQ(x, g - 1);
  }
  // Point to point around a ring (even ranks send first, so blocking sends cannot deadlock),
  // and length-prefixed bytes.
  if (g > 1) {
    const int next = (r + 1) % g, prev = (r + g - 1) % g;
    int32_t got = -1;
    const int32_t mine = 7 * r;
    if (r % 2 == 0) {
      c.send(&mine, 1, DType::I32, next);
      c.recv(&got, 1, DType::I32, prev);
    } else {
      c.recv(&got, 1, DType::I32, prev);
      c.send(&mine, 1, DType::I32, next);
    }
    EXPECT_EQ(got, 7 * prev);
    if (r == 0) send_bytes(c, std::vector<uint8_t>{1, 2, 3, static_cast<uint8_t>(g)}, g - 1);
    if (r == g - 1) {
      EXPECT_EQ(recv_bytes(c, 0), (std::vector<uint8_t>{1, 2, 3, static_cast<uint8_t>(g)}));
    }
  }
  // 16-bit float reductions are refused (Open MPI has none), never silently wrong.
  if (c.backend() != "nccl") {
    uint16_t h[2] = {0, 0};
    EXPECT_THROW(c.all_reduce(h, 2, DType::BF16, ReduceOp::Sum), InfraError);
    EXPECT_THROW(c.reduce_scatter(h, h + 1, 1, DType::F16, ReduceOp::Sum), InfraError);
  }
  c.barrier();
}

}  // namespace mpitune::testing
