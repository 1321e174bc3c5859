#include "mpitune/comm/state_transfer.hpp"

#include <algorithm>

#include "mpitune/comm/mpi_wait.hpp"

namespace mpitune {
namespace {

constexpr size_t kChunk = size_t(1) << 30;  // below INT_MAX bytes per message

}  // namespace

StateTransfer::StateTransfer(MPI_Comm transfer_comm, const Topology& topo) : comm_(transfer_comm), topo_(topo) {}

int StateTransfer::tag_of(int64_t trial) const {
  int* ub = nullptr;
  int flag = 0;
  MPI_CHECK(MPI_Comm_get_attr(comm_, MPI_TAG_UB, &ub, &flag));
  const int64_t limit = flag && ub ? *ub : 32767;
  return static_cast<int>(trial % std::max<int64_t>(1, limit));
}

void StateTransfer::send(int target_group, int64_t target_trial, const Payload& p) {
  const int peer = topo_.world_rank_of(target_group, topo_.group_rank);
  const int tag = tag_of(target_trial);
  int64_t header[3] = {p.ok ? 1 : 0, p.step, static_cast<int64_t>(p.bytes.size())};
  MPI_Request req;
  MPI_CHECK(MPI_Isend(header, 3, MPI_INT64_T, peer, tag, comm_, &req));
  wait_sleeping(&req);
  for (size_t off = 0; off < p.bytes.size(); off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, p.bytes.size() - off));
    MPI_CHECK(MPI_Isend(p.bytes.data() + off, n, MPI_BYTE, peer, tag, comm_, &req));
    wait_sleeping(&req);
  }
}

StateTransfer::Payload StateTransfer::recv(int source_group, int64_t target_trial) {
  const int peer = topo_.world_rank_of(source_group, topo_.group_rank);
  const int tag = tag_of(target_trial);
  int64_t header[3] = {0, 0, 0};
  MPI_Request req;
  MPI_CHECK(MPI_Irecv(header, 3, MPI_INT64_T, peer, tag, comm_, &req));
  wait_sleeping(&req);
  Payload p;
  p.ok = header[0] != 0;
  p.step = header[1];
  p.bytes.resize(static_cast<size_t>(header[2]));
  for (size_t off = 0; off < p.bytes.size(); off += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, p.bytes.size() - off));
    MPI_CHECK(MPI_Irecv(p.bytes.data() + off, n, MPI_BYTE, peer, tag, comm_, &req));
    wait_sleeping(&req);
  }
  return p;
}

}  // namespace mpitune
