// The rank-to-group layout from hosts (no MPI): groups stay on a node, rank 0's node does not
// shift them, leftovers span nodes (and are named), one host keeps the consecutive layout.
#include "mpitune/comm/group_layout.hpp"

#include <gtest/gtest.h>

#include <set>

#include "mpitune/comm/topology.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

using Members = std::vector<std::vector<int>>;

// hosts "a" x n_a then "b" x n_b ... in world-rank order.
std::vector<std::string> block(const std::vector<std::pair<std::string, int>>& counts) {
  std::vector<std::string> hosts;
  for (const auto& [h, n] : counts) hosts.insert(hosts.end(), n, h);
  return hosts;
}

// Invariants every layout keeps: each worker in exactly one group, the tables agree.
void expect_consistent(const GroupLayout& l) {
  std::set<int> seen;
  ASSERT_EQ(l.group_of.size(), l.hosts.size());
  EXPECT_EQ(l.group_of[0], -1);
  EXPECT_EQ(l.rank_in_group[0], -1);
  for (int g = 0; g < l.num_groups(); ++g) {
    ASSERT_EQ(static_cast<int>(l.members[g].size()), l.group_size);
    for (int r = 0; r < l.group_size; ++r) {
      const int w = l.members[g][r];
      EXPECT_TRUE(seen.insert(w).second) << "rank " << w << " in two groups";
      EXPECT_EQ(l.group_of[w], g);
      EXPECT_EQ(l.rank_in_group[w], r);
      EXPECT_EQ(l.world_rank_of(g, r), w);
    }
    EXPECT_EQ(l.leader_of(g), l.members[g][0]);
    if (g > 0) {
      EXPECT_LT(l.leader_of(g - 1), l.leader_of(g)) << "groups are numbered by leader";
    }
  }
  EXPECT_EQ(static_cast<int>(seen.size()), l.world_size() - 1);
  EXPECT_EQ(seen.count(0), 0u);
}

TEST(GroupLayout, OneHostIsTheConsecutiveLayout) {
  for (int g : {1, 2, 3, 4})
    for (int k : {1, 2, 5}) {
      const int world = 1 + k * g;
      const GroupLayout l = make_group_layout(std::vector<std::string>(world, "node"), g);
      expect_consistent(l);
      ASSERT_EQ(l.num_groups(), k);
      for (int w = 1; w < world; ++w) {
        EXPECT_EQ(l.group_of[w], (w - 1) / g) << "G=" << g << " rank " << w;
        EXPECT_EQ(l.rank_in_group[w], (w - 1) % g);
        EXPECT_EQ(l.local_rank[w], w);
        EXPECT_EQ(l.local_worker_rank[w], w - 1);
        EXPECT_EQ(l.local_workers[w], world - 1);
      }
      EXPECT_TRUE(l.spanning_groups().empty());
      EXPECT_EQ(describe_spanning_groups(l, false), "");
    }
}

TEST(GroupLayout, TwoNodesOfFourWorkersWithTheCoordinatorOnTheFirst) {
  const auto hosts = block({{"a", 5}, {"b", 4}});  // rank 0 + 4 workers on a, 4 workers on b
  const GroupLayout g2 = make_group_layout(hosts, 2);
  expect_consistent(g2);
  EXPECT_EQ(g2.members, (Members{{1, 2}, {3, 4}, {5, 6}, {7, 8}}));
  const GroupLayout g4 = make_group_layout(hosts, 4);
  expect_consistent(g4);
  EXPECT_EQ(g4.members, (Members{{1, 2, 3, 4}, {5, 6, 7, 8}}));
  EXPECT_TRUE(g4.spanning_groups().empty());
  // The coordinator is no device: the workers of a use GPUs 0..3, like those of b.
  for (int w = 1; w <= 4; ++w) EXPECT_EQ(g4.local_worker_rank[w], w - 1);
  for (int w = 5; w <= 8; ++w) EXPECT_EQ(g4.local_worker_rank[w], w - 5);
  EXPECT_EQ(g4.local_workers[1], 4);
  EXPECT_EQ(g4.local_rank[1], 1);  // rank 0 still counts among the node's ranks
  EXPECT_EQ(g4.local_size[1], 5);
}

TEST(GroupLayout, RanksPlacedRoundRobinStillGroupByNode) {
  // srun/mpirun --map-by node: a, b, a, b, ...; rank arithmetic would pair a with b every time.
  std::vector<std::string> hosts;
  for (int w = 0; w < 9; ++w) hosts.push_back(w % 2 ? "b" : "a");
  const GroupLayout l = make_group_layout(hosts, 2);
  expect_consistent(l);
  EXPECT_EQ(l.members, (Members{{1, 3}, {2, 4}, {5, 7}, {6, 8}}));
  for (int g = 0; g < l.num_groups(); ++g)
    EXPECT_EQ(l.hosts[l.members[g][0]], l.hosts[l.members[g][1]]) << "group " << g;
  EXPECT_EQ(l.local_worker_rank[2], 0);  // a's first worker
  EXPECT_EQ(l.local_worker_rank[1], 0);  // b's first worker
  EXPECT_EQ(l.local_worker_rank[8], 3);
}

TEST(GroupLayout, TheCoordinatorsNodeDoesNotShiftTheOtherNodesGroups) {
  // Nodes of 5 ranks, G = 3: rank arithmetic gives {1,2,3} {4,5,6} {7,8,9}, two groups across.
  const GroupLayout l = make_group_layout(block({{"a", 5}, {"b", 5}}), 3);
  expect_consistent(l);
  EXPECT_EQ(l.members, (Members{{1, 2, 3}, {4, 8, 9}, {5, 6, 7}}));
  EXPECT_EQ(l.spanning_groups(), std::vector<int>{1});
  const std::string line = describe_spanning_groups(l, false);
  EXPECT_NE(line.find("group 1 (a+b) spans nodes"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one line";
}

TEST(GroupLayout, RankZerosNodeWithFourRanks) {
  // a: rank 0 + 3 workers, b: 5 workers.
  const auto hosts = block({{"a", 4}, {"b", 5}});
  const GroupLayout g2 = make_group_layout(hosts, 2);
  expect_consistent(g2);
  EXPECT_EQ(g2.members, (Members{{1, 2}, {3, 8}, {4, 5}, {6, 7}}));
  EXPECT_EQ(g2.spanning_groups(), std::vector<int>{1});
  const GroupLayout g4 = make_group_layout(hosts, 4);
  expect_consistent(g4);
  EXPECT_EQ(g4.members, (Members{{1, 2, 3, 8}, {4, 5, 6, 7}}));
  EXPECT_EQ(g4.spanning_groups(), std::vector<int>{0});
}

TEST(GroupLayout, UnevenNodes) {
  // a: rank 0 + 2 workers, b: 6 workers, c: 4 workers; G = 4.
  const GroupLayout l = make_group_layout(block({{"a", 3}, {"b", 6}, {"c", 4}}), 4);
  expect_consistent(l);
  EXPECT_EQ(l.members, (Members{{1, 2, 7, 8}, {3, 4, 5, 6}, {9, 10, 11, 12}}));
  EXPECT_EQ(l.spanning_groups(), std::vector<int>{0});
  EXPECT_EQ(l.local_workers[9], 4);
  EXPECT_EQ(l.local_worker_rank[12], 3);
}

TEST(GroupLayout, SpanningWhenAskedIsTheConsecutiveLayout) {
  const GroupLayout l = make_group_layout(block({{"a", 5}, {"b", 5}}), 3, /*span_nodes=*/true);
  expect_consistent(l);
  EXPECT_EQ(l.members, (Members{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}));
  EXPECT_EQ(l.spanning_groups(), std::vector<int>{1});
  EXPECT_NE(describe_spanning_groups(l, true).find("groups_span_nodes = true"), std::string::npos);
}

TEST(GroupLayout, ABadWorldSizeIsAConfigError) {
  EXPECT_THROW(make_group_layout(block({{"a", 4}}), 2), ConfigError);
  EXPECT_THROW(make_group_layout(block({{"a", 1}}), 1), ConfigError);
  EXPECT_THROW(make_group_layout(block({{"a", 3}}), 0), ConfigError);
}

TEST(GroupLayout, TopologyAsksTheLayout) {
  std::vector<std::string> hosts;
  for (int w = 0; w < 5; ++w) hosts.push_back(w % 2 ? "b" : "a");
  const GroupLayout l = make_group_layout(hosts, 2);
  const Topology t = make_topology(3, l);
  EXPECT_EQ(t.group, 0);
  EXPECT_EQ(t.group_rank, 1);
  EXPECT_EQ(t.host, "b");
  EXPECT_EQ(t.leader_of(1), 2);
  EXPECT_EQ(t.world_rank_of(1, 1), 4);
  EXPECT_EQ(t.group_of_rank(4), 1);
  EXPECT_EQ(t.group_of_rank(0), -1);
  EXPECT_EQ(t.local_worker_rank, 1);
  EXPECT_EQ(t.num_groups, 2);
}

TEST(TestHostOverride, NamesOneHostPerRankOrFails) {
  unsetenv("MPITUNE_TEST_HOSTNAME_OF_RANK");
  EXPECT_EQ(test_host_name_of_rank(1, 3), "");
  setenv("MPITUNE_TEST_HOSTNAME_OF_RANK", "host-a,host-a,host-b", 1);
  EXPECT_EQ(test_host_name_of_rank(0, 3), "host-a");
  EXPECT_EQ(test_host_name_of_rank(2, 3), "host-b");
  EXPECT_THROW(test_host_name_of_rank(0, 5), InfraError);
  setenv("MPITUNE_TEST_HOSTNAME_OF_RANK", "host-a,,host-b", 1);
  EXPECT_THROW(test_host_name_of_rank(0, 3), InfraError);
  unsetenv("MPITUNE_TEST_HOSTNAME_OF_RANK");
}

}  // namespace
}  // namespace mpitune
