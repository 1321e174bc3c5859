// Topology, group control and the control channel, under mpirun with 3 or 5 ranks.
#include <gtest/gtest.h>
#include <mpi.h>

#include "mpitune/comm/channel.hpp"
#include "mpitune/comm/group_control.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

int world_size() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// Every group size that fits this world: 1 + K*G ranks.
std::vector<int> group_sizes() {
  std::vector<int> out;
  for (int g = 1; g < world_size(); ++g)
    if ((world_size() - 1) % g == 0) out.push_back(g);
  return out;
}

TEST(Topology, GroupsAreContiguousRanksAfterTheCoordinator) {
  for (int G : group_sizes()) {
    GroupComms comms(MPI_COMM_WORLD, G);
    const Topology& t = comms.topology();
    EXPECT_EQ(t.num_groups, (world_size() - 1) / G);
    if (t.is_coordinator()) {
      EXPECT_EQ(comms.group(), MPI_COMM_NULL);
      continue;
    }
    EXPECT_EQ(t.group, (t.world_rank - 1) / G);
    int grank = -1, gsize = -1;
    MPI_Comm_rank(comms.group(), &grank);
    MPI_Comm_size(comms.group(), &gsize);
    EXPECT_EQ(gsize, G);
    EXPECT_EQ(grank, t.group_rank);
    EXPECT_EQ(t.world_rank_of(t.group, t.group_rank), t.world_rank);
    EXPECT_EQ(t.leader_of(t.group), t.world_rank - t.group_rank);
  }
}

TEST(Topology, WrongWorldSizeIsAConfigErrorOnEveryRank) {
  // No group size makes 1 + K*G equal to a world of 4 ranks with G = 2; every rank throws.
  EXPECT_THROW(make_topology(0, 4, 2), ConfigError);
  EXPECT_THROW(GroupComms(MPI_COMM_WORLD, world_size()), ConfigError);  // K would be 0
}

TEST(GroupControl, LeaderBroadcastAndAgreement) {
  for (int G : group_sizes()) {
    GroupComms comms(MPI_COMM_WORLD, G);
    const Topology& t = comms.topology();
    if (t.is_coordinator()) continue;
    GroupControl control(comms.group());
    // Different sizes in successive broadcasts: members learn the size from the leader.
    for (size_t n : {size_t(0), size_t(3), size_t(1000)}) {
      std::vector<uint8_t> bytes;
      if (t.is_leader())
        for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<uint8_t>(i * 7 + t.group));
      control.broadcast(bytes);
      ASSERT_EQ(bytes.size(), n);
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(bytes[i], static_cast<uint8_t>(i * 7 + t.group));
    }
    EXPECT_EQ(control.max(t.group_rank), G - 1);
    // The last rank's text reaches the leader.
    const std::string text = control.text_to_leader("from rank " + std::to_string(t.group_rank), G - 1);
    if (t.is_leader()) {
      EXPECT_EQ(text, "from rank " + std::to_string(G - 1));
    }
  }
}

TEST(Channel, CoordinatorAndLeadersExchangeProtocolMessages) {
  for (int G : group_sizes()) {
    GroupComms comms(MPI_COMM_WORLD, G);
    const Topology& t = comms.topology();
    MpiChannel channel(comms.control());
    if (t.is_coordinator()) {
      for (int g = 0; g < t.num_groups; ++g) {
        SegmentMsg s;
        s.trial = 100 + g;
        s.stop = 9;
        channel.send(t.leader_of(g), s);
      }
      // Replies come in any order; each leader answers its own trial.
      std::vector<bool> seen(t.num_groups, false);
      for (int i = 0; i < t.num_groups; ++i) {
        const Envelope e = channel.wait();
        const auto& d = std::get<SegmentDoneMsg>(e.message);
        const int g = (e.source - 1) / G;
        EXPECT_EQ(d.group, g);
        EXPECT_EQ(d.trial, 100 + g);
        EXPECT_EQ(d.step, 9);
        seen[g] = true;
      }
      for (bool s : seen) EXPECT_TRUE(s);
    } else if (t.is_leader()) {
      const Envelope e = channel.wait(0);
      const auto& s = std::get<SegmentMsg>(e.message);
      EXPECT_EQ(s.trial, 100 + t.group);
      channel.send(0, SegmentDoneMsg{t.group, s.trial, s.stop, {}, 0.5, false});
      channel.drain();
    }
    EXPECT_FALSE(channel.poll().has_value());  // nothing left over
    MPI_Barrier(MPI_COMM_WORLD);
  }
}

}  // namespace
}  // namespace mpitune
