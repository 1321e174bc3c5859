// GroupControl: how a group leader passes the coordinator's orders to the other ranks of its
// group, and how the ranks of a group agree at step boundaries (a failure on any rank fails the
// trial on all of them, a stop order reaches all of them). Control only: tensors go through
// Collectives. With G = 1 every call is free.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mpitune {

class GroupControl {
 public:
  explicit GroupControl(MPI_Comm group);  // MPI_COMM_NULL or a size-1 group: single rank
  int rank() const { return rank_; }
  int size() const { return size_; }

  // The leader's bytes reach every rank (sizes may differ per call). Ranks that wait sleep
  // between polls, since they may wait a long time for the coordinator's next order.
  void broadcast(std::vector<uint8_t>& bytes);
  // The maximum of `value` over the group (e.g. "did any rank fail?", "stop now?").
  int64_t max(int64_t value);
  int64_t sum(int64_t value);
  // The text of rank `from` on the leader (for a failure reason); other ranks get "".
  std::string text_to_leader(const std::string& text, int from);

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace mpitune
