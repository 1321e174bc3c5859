// The NCCL group's shared-GPU check (pure part): which ranks would share a GPU, and the error
// that names them and the fixes.
#include <gtest/gtest.h>

#include "mpitune/comm/device_check.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

TEST(SharedGpu, DistinctGpusOrHostsAreFine) {
  EXPECT_FALSE(shared_gpu_clash({"node1|0000:01:00.0", "node1|0000:02:00.0", "node2|0000:01:00.0"}));
  EXPECT_FALSE(shared_gpu_clash({"node1|0000:01:00.0"}));
}

TEST(SharedGpu, TwoRanksOnOneGpuAreNamed) {
  const auto clash = shared_gpu_clash({"a|0000:01:00.0", "b|0000:01:00.0", "a|0000:01:00.0"});
  ASSERT_TRUE(clash);
  EXPECT_EQ(*clash, "ranks 0 and 2 of one trial group share GPU 0000:01:00.0 on host a");
  try {
    throw_shared_gpu(*clash);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "train.collectives");
    EXPECT_NE(std::string(e.what()).find("collectives = mpi"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ranks 0 and 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpitune
