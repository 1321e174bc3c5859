// Channel: the control plane. Small Messages (protocol.hpp) between the coordinator and the
// group leaders, apart from the data plane (Collectives) that moves tensors.
//
// send() never blocks on the receiver (messages are buffered and completed in the background
// by later calls), so the coordinator and a leader that send to each other at the same time
// cannot deadlock. Receiving is polled, so waiting ranks can sleep (see Backoff).
#pragma once

#include <mpi.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "mpitune/core/protocol.hpp"

namespace mpitune {

constexpr int kAnySource = -1;

struct Envelope {
  int source = -1;
  Message message;
};

class Channel {
 public:
  virtual ~Channel() = default;
  virtual void send(int dest, const Message& m) = 0;
  // A message from `source` (or any), if one has arrived; never blocks.
  virtual std::optional<Envelope> poll(int source = kAnySource) = 0;
  // Blocks (sleeping between polls) until a message from `source` arrives.
  Envelope wait(int source = kAnySource);
  // Completes buffered sends; called before shutdown so no message is lost.
  virtual void drain() = 0;
};

// MPI implementation over a dedicated communicator (GroupComms::control()). Safe to call from
// two threads (a leader's heartbeat thread sends while its main thread polls) when MPI provides
// MPI_THREAD_MULTIPLE; a lock keeps the list of pending sends consistent.
class MpiChannel : public Channel {
 public:
  explicit MpiChannel(MPI_Comm comm);
  ~MpiChannel() override;
  void send(int dest, const Message& m) override;
  std::optional<Envelope> poll(int source = kAnySource) override;
  void drain() override;

 private:
  struct PendingSend {
    MPI_Request request;
    std::vector<uint8_t> bytes;  // must outlive the request
  };
  void complete_finished_sends();

  MPI_Comm comm_;
  std::mutex mutex_;  // guards pending_ (and orders this channel's MPI calls)
  std::deque<PendingSend> pending_;
};

}  // namespace mpitune
