// /groups.cpus (each rank's CPU set, added after the other columns of /groups): written, read
// back, and "" in files written before it existed.
#include <gtest/gtest.h>

#include "mpitune/store/hdf5_store.hpp"
#include "store_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

TEST(Hdf5GroupsCpus, RoundTripsEachRanksCpuSet) {
  testing::TempDir dir("mpitune-groups-cpus");
  const std::string path = dir.file("run.h5");
  GroupRecord g0{0, "1,3", "node01,node01", "cuda:0,cuda:1", "0-3,8;4-7"};
  GroupRecord g1{1, "2,4", "node02,node02", "cuda:0,cuda:1", ""};
  {
    auto store = create_hdf5_store(path, false);
    store->begin(testing::sample_info(), {g0, g1});
    store->close();
  }
  const ExperimentData d = read_hdf5_experiment(path);
  ASSERT_EQ(d.groups.size(), 2u);
  EXPECT_EQ(d.groups[0].cpus, "0-3,8;4-7");
  EXPECT_EQ(d.groups[0].ranks, "1,3");
  EXPECT_EQ(d.groups[1].cpus, "");
  EXPECT_EQ(d.groups[1].devices, "cuda:0,cuda:1");
}

TEST(Hdf5GroupsCpus, OlderFilesReadAsEmpty) {
  const ExperimentData d = read_hdf5_experiment(std::string(MPITUNE_SOURCE_DIR) + "/tests/data/schema1_sample.h5");
  ASSERT_FALSE(d.groups.empty());
  for (const auto& g : d.groups) {
    EXPECT_EQ(g.cpus, "");
    EXPECT_NE(g.hosts, "");  // the columns it has still read
  }
}

}  // namespace
}  // namespace mpitune
