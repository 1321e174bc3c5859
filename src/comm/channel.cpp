#include "mpitune/comm/channel.hpp"

#include "mpitune/comm/backoff.hpp"
#include "mpitune/comm/mpi_check.hpp"

namespace mpitune {

namespace {
constexpr int kControlTag = 7001;
}

Envelope Channel::wait(int source) {
  Backoff backoff;
  for (;;) {
    if (auto e = poll(source)) return std::move(*e);
    backoff.pause();
  }
}

MpiChannel::MpiChannel(MPI_Comm comm) : comm_(comm) {}

MpiChannel::~MpiChannel() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  try {
    drain();
  } catch (...) {
    // A destructor must not throw; the job is ending anyway.
  }
}

void MpiChannel::send(int dest, const Message& m) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.push_back(PendingSend{MPI_REQUEST_NULL, encode(m)});
  auto& p = pending_.back();
  MPI_CHECK(MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, dest, kControlTag,
                      comm_, &p.request));
  complete_finished_sends();
}

void MpiChannel::complete_finished_sends() {
  while (!pending_.empty()) {
    int done = 0;
    MPI_CHECK(MPI_Test(&pending_.front().request, &done, MPI_STATUS_IGNORE));
    if (!done) break;
    pending_.pop_front();
  }
}

std::optional<Envelope> MpiChannel::poll(int source) {
  std::lock_guard<std::mutex> lock(mutex_);
  complete_finished_sends();
  int flag = 0;
  MPI_Status status;
  MPI_CHECK(MPI_Iprobe(source == kAnySource ? MPI_ANY_SOURCE : source, kControlTag, comm_, &flag, &status));
  if (!flag) return std::nullopt;
  int count = 0;
  MPI_CHECK(MPI_Get_count(&status, MPI_BYTE, &count));
  std::vector<uint8_t> bytes(static_cast<size_t>(count));
  MPI_CHECK(MPI_Recv(bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, kControlTag, comm_, MPI_STATUS_IGNORE));
  return Envelope{status.MPI_SOURCE, decode(bytes)};
}

void MpiChannel::drain() {
  Backoff backoff;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      complete_finished_sends();
      if (pending_.empty()) return;
    }
    backoff.pause();  // unlocked: another thread may send meanwhile
  }
}

}  // namespace mpitune
