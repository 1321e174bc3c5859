// A Slurm launch whose tasks each got an MPI world of one is named, with the srun hint.
#include "mpitune/comm/launch_check.hpp"

#include <gtest/gtest.h>

namespace mpitune {
namespace {

TEST(LaunchCheck, SlurmTasksInAWorldOfOneAreAMismatch) {
  const std::string line = pmi_mismatch(1, "9");
  EXPECT_NE(line.find("9 tasks"), std::string::npos) << line;
  EXPECT_NE(line.find("srun --mpi=pmix"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LaunchCheck, ConsistentLaunchesPass) {
  EXPECT_EQ(pmi_mismatch(1, nullptr), "");  // not under Slurm
  EXPECT_EQ(pmi_mismatch(1, ""), "");
  EXPECT_EQ(pmi_mismatch(1, "1"), "");      // one task: a world of one is right
  EXPECT_EQ(pmi_mismatch(9, "9"), "");      // PMI worked
  EXPECT_EQ(pmi_mismatch(5, "9"), "");      // not this check's business (the world size check's)
  EXPECT_EQ(pmi_mismatch(1, "4(x2)"), "");  // not a plain count: no claim
}

}  // namespace
}  // namespace mpitune
