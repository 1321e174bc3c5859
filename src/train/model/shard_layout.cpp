// Padding and slices of a sharding unit (see shard_layout.hpp).
#include "mpitune/train/shard_layout.hpp"

#include <algorithm>

#include "mpitune/core/error.hpp"

namespace mpitune {

ShardLayout ShardLayout::make(int64_t numel, int group_size) {
  MPITUNE_CHECK(numel >= 0 && group_size >= 1, "bad shard layout");
  ShardLayout s;
  s.numel = numel;
  s.group_size = group_size;
  s.slice = (numel + group_size - 1) / group_size;
  s.padded = s.slice * group_size;
  return s;
}

int64_t ShardLayout::valid(int rank) const {
  MPITUNE_CHECK(rank >= 0 && rank < group_size, "rank out of range");
  return std::clamp<int64_t>(numel - begin(rank), 0, slice);
}

}  // namespace mpitune
