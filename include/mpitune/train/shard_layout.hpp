// How one sharding unit's flat parameter buffer is cut among the G ranks of a group (ZeRO-3):
// the buffer is padded with zeros to a multiple of G, and rank r owns the contiguous slice
// [r * slice, (r + 1) * slice). Pure arithmetic, no torch.
#pragma once

#include <cstdint>

namespace mpitune {

struct ShardLayout {
  int64_t numel = 0;    // the unit's parameters
  int64_t padded = 0;   // numel rounded up to a multiple of the group size
  int64_t slice = 0;    // padded / group size: elements owned by each rank
  int group_size = 1;

  static ShardLayout make(int64_t numel, int group_size);

  int64_t begin(int rank) const { return slice * rank; }
  // How many elements of rank's slice are parameters (the rest of it is padding).
  int64_t valid(int rank) const;
};

}  // namespace mpitune
