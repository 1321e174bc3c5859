// A rank's CPU set, thread count and GPU choice (pure rules, no MPI or CUDA).
#include "mpitune/comm/rank_resources.hpp"

#include <gtest/gtest.h>

#include "mpitune/comm/group_layout.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

TEST(RankResources, CpuSetsAreWrittenAsRanges) {
  EXPECT_EQ(format_cpu_set({}), "");
  EXPECT_EQ(format_cpu_set({5}), "5");
  EXPECT_EQ(format_cpu_set({3, 0, 1, 2, 8}), "0-3,8");
  EXPECT_EQ(format_cpu_set({0, 2, 4, 5, 6, 6}), "0,2,4-6");
}

TEST(RankResources, TheProcessHasACpuSet) {
  const auto cpus = process_cpu_set();
  ASSERT_FALSE(cpus.empty());
  EXPECT_NE(format_cpu_set(cpus), "");
}

TEST(RankResources, ThreadsFollowTheAffinitySet) {
  EXPECT_EQ(compute_threads_for(4, 64, 16), 4);   // srun --cpus-per-task=4 on a 64-core node
  EXPECT_EQ(compute_threads_for(1, 64, 1), 1);    // bound to one core
  EXPECT_EQ(compute_threads_for(64, 64, 16), 4);  // unbound: the node shared by 16 workers
  EXPECT_EQ(compute_threads_for(2, 2, 4), 1);     // unbound, oversubscribed: never 0
  EXPECT_EQ(compute_threads_for(0, 8, 2), 4);     // unknown set: as unbound
}

TEST(RankResources, GpuIsTheWorkerIndexOnItsHostModuloVisibleGpus) {
  EXPECT_EQ(choose_gpu(0, 4, nullptr).ordinal, 0);
  EXPECT_EQ(choose_gpu(3, 4, nullptr).label, "cuda:3");
  EXPECT_EQ(choose_gpu(5, 4, nullptr).ordinal, 1);
  // srun --gpus-per-task=1: one visible GPU each; the label names the physical one.
  const GpuChoice one = choose_gpu(2, 1, "6");
  EXPECT_EQ(one.ordinal, 0);
  EXPECT_EQ(one.label, "cuda:6");
  EXPECT_EQ(choose_gpu(1, 2, "2,3").label, "cuda:3");
  EXPECT_EQ(choose_gpu(0, 1, "GPU-8a1b").label, "cuda:GPU-8a1b");
  EXPECT_EQ(choose_gpu(1, 2, "").label, "cuda:1");
  EXPECT_THROW(choose_gpu(0, 0, nullptr), InfraError);
}

TEST(RankResources, TheCoordinatorsNodeGivesItsWorkersEveryGpu) {
  // rank 0 + 4 workers on a, 4 workers on b, 4 GPUs each: GPUs 0..3 on both, none shared.
  std::vector<std::string> hosts(5, "a");
  hosts.insert(hosts.end(), 4, "b");
  const GroupLayout l = make_group_layout(hosts, 4);
  for (const std::string host : {"a", "b"}) {
    std::vector<int> gpus;
    for (int w = 1; w < l.world_size(); ++w)
      if (l.hosts[w] == host) gpus.push_back(choose_gpu(l.local_worker_rank[w], 4, nullptr).ordinal);
    EXPECT_EQ(gpus, (std::vector<int>{0, 1, 2, 3})) << host;
  }
}

}  // namespace
}  // namespace mpitune
