// Which world ranks form which trial group, computed from the host of every rank (not from rank
// numbers), so that on a cluster a group's ranks share a node and rank 0's node does not shift
// every group by one. Pure (no MPI): GroupComms gathers the hosts once and calls it.
//
// The rule: rank 0 is the coordinator, wherever it runs; it is not a device, and the other ranks
// of its node still form groups. The worker ranks of each host fill groups of G in local-rank
// (= world-rank) order; the ranks a host has left over (fewer than G) are pooled, host after
// host, into groups that span nodes. With span_nodes (experiment.groups_span_nodes = true) the
// groups are consecutive world ranks, 1..G, G+1..2G, ..., wherever they run.
// Groups are numbered by their leader's world rank; inside a group, ranks go in world-rank order.
// On one host both rules give the consecutive layout.
#pragma once

#include <string>
#include <vector>

namespace mpitune {

struct GroupLayout {
  int group_size = 1;
  std::vector<std::string> hosts;             // [world rank]
  std::vector<std::vector<int>> members;      // [group][group rank] -> world rank
  std::vector<int> group_of;                  // [world rank] -> group; -1 for rank 0
  std::vector<int> rank_in_group;             // [world rank] -> group rank; -1 for rank 0
  // [world rank] -> index among the *worker* ranks of its host (rank 0 not counted), and how
  // many worker ranks that host has: what picks the rank's GPU.
  std::vector<int> local_worker_rank;
  std::vector<int> local_workers;
  // [world rank] -> index among all ranks of its host (rank 0 counted), and their number.
  std::vector<int> local_rank;
  std::vector<int> local_size;

  int world_size() const { return static_cast<int>(hosts.size()); }
  int num_groups() const { return static_cast<int>(members.size()); }
  int leader_of(int group) const { return members.at(group).at(0); }
  int world_rank_of(int group, int group_rank) const { return members.at(group).at(group_rank); }
  // Groups whose ranks are on more than one host.
  std::vector<int> spanning_groups() const;
};

// Throws ConfigError("experiment.group_size", ...) unless world_size = 1 + K*G with K >= 1.
void check_world_size(int world_size, int group_size);

// hosts: one name per world rank, in world-rank order. Throws ConfigError
// ("experiment.group_size") unless hosts.size() = 1 + K*G with K >= 1.
GroupLayout make_group_layout(const std::vector<std::string>& hosts, int group_size, bool span_nodes = false);

// One line for rank 0's stdout naming the groups that span nodes and why ("" when none does).
std::string describe_spanning_groups(const GroupLayout& layout, bool span_nodes);

}  // namespace mpitune
