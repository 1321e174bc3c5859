// StateTransfer: PBT's exploit on the data plane. Rank i of the source group sends its share of
// a trial's training state straight to rank i of the target group (no files), over a
// communicator of its own so it never matches control or collective traffic.
//
// A transfer is a header (ok, step, byte count) then the bytes, in chunks below MPI's int
// count limit. The receiver waits by polling with back-off: the source serves the request only
// at its next step boundary, which may take a while.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <vector>

#include "mpitune/comm/topology.hpp"

namespace mpitune {

class StateTransfer {
 public:
  StateTransfer(MPI_Comm transfer_comm, const Topology& topo);

  struct Payload {
    bool ok = false;           // false: the source no longer holds the trial
    int64_t step = 0;
    std::vector<uint8_t> bytes;
  };
  // To the same group rank of `target_group`; `target_trial` keeps concurrent transfers apart.
  void send(int target_group, int64_t target_trial, const Payload& p);
  Payload recv(int source_group, int64_t target_trial);

 private:
  int tag_of(int64_t trial) const;
  MPI_Comm comm_;
  Topology topo_;
};

}  // namespace mpitune
