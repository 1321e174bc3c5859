// The in-process fake Collectives: the semantics every backend shares (collective_checks.hpp)
// for groups of 1 to 4 thread-ranks, and the fake's own check that ranks make the same call.
#include <gtest/gtest.h>

#include <mutex>

#include "collective_checks.hpp"
#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "run_ranks.hpp"

namespace mpitune {
namespace {

class FakeGroup : public ::testing::TestWithParam<int> {};

TEST_P(FakeGroup, HasTheSemanticsOfEveryBackend) {
  testing::run_ranks(GetParam(), [](std::shared_ptr<Collectives> c) {
    EXPECT_EQ(c->backend(), "fake");
    testing::check_collective_semantics(*c);
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, FakeGroup, ::testing::Values(1, 2, 3, 4));

TEST(FakeCollectives, RanksCallingDifferentCollectivesAllFail) {
  int failures = 0;
  std::mutex m;
  testing::run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    float in[3] = {1, 2, 3}, out[6];
    try {
      c->all_gather(in, out, c->rank() == 0 ? 2 : 3, DType::F32);  // counts differ
    } catch (const InfraError& e) {
      std::lock_guard<std::mutex> lock(m);
      ++failures;
      EXPECT_NE(std::string(e.what()).find("all_gather"), std::string::npos) << e.what();
    }
  });
  EXPECT_EQ(failures, 2);
}

TEST(FakeCollectives, DTypeSizesAndNames) {
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_size(DType::F64), 8u);
  EXPECT_STREQ(dtype_name(DType::F16), "f16");
  EXPECT_STREQ(reduce_op_name(ReduceOp::Max), "max");
}

}  // namespace
}  // namespace mpitune
