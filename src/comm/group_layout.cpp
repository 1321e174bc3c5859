// The rank-to-group table from the host of every rank (header: the rule and why).
#include "mpitune/comm/group_layout.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "mpitune/core/error.hpp"

namespace mpitune {

void check_world_size(int world_size, int group_size) {
  if (group_size < 1)
    throw ConfigError("experiment.group_size", "must be at least 1", "set group_size = 1 or more");
  const int workers = world_size - 1;
  if (workers < group_size || workers % group_size != 0) {
    const int k = std::max(1, workers / group_size);
    throw ConfigError("experiment.group_size",
                      "the job has " + std::to_string(world_size) + " ranks, but it needs 1 + K x " +
                          std::to_string(group_size) + " (one coordinator and K groups of " +
                          std::to_string(group_size) + ")",
                      "run with mpirun -np " + std::to_string(1 + k * group_size) + " (K=" +
                          std::to_string(k) + ") or -np " + std::to_string(1 + (k + 1) * group_size) +
                          ", or change group_size");
  }
}

std::vector<int> GroupLayout::spanning_groups() const {
  std::vector<int> out;
  for (int g = 0; g < num_groups(); ++g) {
    const auto& m = members[g];
    if (std::any_of(m.begin(), m.end(), [&](int w) { return hosts[w] != hosts[m[0]]; })) out.push_back(g);
  }
  return out;
}

GroupLayout make_group_layout(const std::vector<std::string>& hosts, int group_size, bool span_nodes) {
  const int world = static_cast<int>(hosts.size());
  check_world_size(world, group_size);
  GroupLayout l;
  l.group_size = group_size;
  l.hosts = hosts;

  // Hosts in order of first appearance; each host's ranks in world-rank order (= local-rank order:
  // GroupComms numbers a node's ranks by world rank).
  std::vector<std::string> host_order;
  std::map<std::string, std::vector<int>> ranks_on;
  for (int w = 0; w < world; ++w) {
    auto& on = ranks_on[hosts[w]];
    if (on.empty()) host_order.push_back(hosts[w]);
    on.push_back(w);
  }
  l.local_rank.resize(world);
  l.local_size.resize(world);
  l.local_worker_rank.assign(world, -1);
  l.local_workers.assign(world, 0);
  for (const auto& [host, on] : ranks_on) {
    const int workers = static_cast<int>(std::count_if(on.begin(), on.end(), [](int w) { return w != 0; }));
    int next_worker = 0;
    for (size_t i = 0; i < on.size(); ++i) {
      const int w = on[i];
      l.local_rank[w] = static_cast<int>(i);
      l.local_size[w] = static_cast<int>(on.size());
      l.local_workers[w] = workers;
      if (w != 0) l.local_worker_rank[w] = next_worker++;
    }
  }

  if (span_nodes) {
    for (int first = 1; first < world; first += group_size) {
      std::vector<int> m;
      for (int r = 0; r < group_size; ++r) m.push_back(first + r);
      l.members.push_back(m);
    }
  } else {
    std::vector<int> leftover;  // ranks that fill no whole group on their host, host after host
    for (const std::string& host : host_order) {
      std::vector<int> workers;
      for (int w : ranks_on[host])
        if (w != 0) workers.push_back(w);
      const size_t whole = workers.size() / group_size * group_size;
      for (size_t i = 0; i < whole; i += group_size)
        l.members.emplace_back(workers.begin() + i, workers.begin() + i + group_size);
      leftover.insert(leftover.end(), workers.begin() + whole, workers.end());
    }
    // check_world_size made the worker count a multiple of G, so the pool is one too.
    for (size_t i = 0; i < leftover.size(); i += group_size) {
      std::vector<int> m(leftover.begin() + i, leftover.begin() + i + group_size);
      std::sort(m.begin(), m.end());
      l.members.push_back(m);
    }
    std::sort(l.members.begin(), l.members.end(),
              [](const std::vector<int>& a, const std::vector<int>& b) { return a[0] < b[0]; });
  }

  l.group_of.assign(world, -1);
  l.rank_in_group.assign(world, -1);
  for (int g = 0; g < l.num_groups(); ++g)
    for (int r = 0; r < group_size; ++r) {
      l.group_of[l.members[g][r]] = g;
      l.rank_in_group[l.members[g][r]] = r;
    }
  return l;
}

std::string describe_spanning_groups(const GroupLayout& layout, bool span_nodes) {
  const std::vector<int> spanning = layout.spanning_groups();
  if (spanning.empty()) return "";
  std::string list;
  for (size_t i = 0; i < spanning.size() && i < 8; ++i) {
    const auto& m = layout.members[spanning[i]];
    std::set<std::string> hosts;
    for (int w : m) hosts.insert(layout.hosts[w]);
    std::string names;
    for (const auto& h : hosts) names += (names.empty() ? "" : "+") + h;
    list += (list.empty() ? "" : ", ") + std::to_string(spanning[i]) + " (" + names + ")";
  }
  if (spanning.size() > 8) list += ", ... (" + std::to_string(spanning.size()) + " in all)";
  const std::string why =
      span_nodes ? "experiment.groups_span_nodes = true"
                 : "their hosts' worker ranks are not a multiple of group_size " + std::to_string(layout.group_size) +
                       "; give every node a multiple of it (rank 0 aside)";
  return "mpitune: placement: group" + std::string(spanning.size() > 1 ? "s " : " ") + list + " span" +
         (spanning.size() > 1 ? "" : "s") + " nodes: " + why;
}

}  // namespace mpitune
