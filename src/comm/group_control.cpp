#include "mpitune/comm/group_control.hpp"

#include "mpitune/comm/mpi_wait.hpp"

namespace mpitune {

GroupControl::GroupControl(MPI_Comm group) : comm_(group) {
  if (comm_ != MPI_COMM_NULL) {
    MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    MPI_CHECK(MPI_Comm_size(comm_, &size_));
  }
}

void GroupControl::broadcast(std::vector<uint8_t>& bytes) {
  if (size_ == 1) return;
  // Size first, then the payload; both non-blocking so the members can sleep while waiting.
  uint64_t n = bytes.size();
  MPI_Request req;
  MPI_CHECK(MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, comm_, &req));
  wait_sleeping(&req);
  bytes.resize(n);
  MPI_CHECK(MPI_Ibcast(bytes.data(), static_cast<int>(n), MPI_BYTE, 0, comm_, &req));
  wait_sleeping(&req);
}

int64_t GroupControl::max(int64_t value) {
  if (size_ == 1) return value;
  int64_t out = value;
  MPI_CHECK(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_MAX, comm_));
  return out;
}

int64_t GroupControl::sum(int64_t value) {
  if (size_ == 1) return value;
  int64_t out = value;
  MPI_CHECK(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_SUM, comm_));
  return out;
}

std::string GroupControl::text_to_leader(const std::string& text, int from) {
  if (size_ == 1 || from == 0) return rank_ == 0 ? text : std::string();
  constexpr int kTag = 7002;
  if (rank_ == from) {
    MPI_CHECK(MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, kTag, comm_));
    return "";
  }
  if (rank_ != 0) return "";
  MPI_Status status;
  MPI_CHECK(MPI_Probe(from, kTag, comm_, &status));
  int count = 0;
  MPI_CHECK(MPI_Get_count(&status, MPI_CHAR, &count));
  std::string out(static_cast<size_t>(count), '\0');
  MPI_CHECK(MPI_Recv(out.data(), count, MPI_CHAR, from, kTag, comm_, MPI_STATUS_IGNORE));
  return out;
}

}  // namespace mpitune
