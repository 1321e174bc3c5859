// Collectives: the data plane of one trial group (ranks 0..G-1 of the group communicator).
//
// Speaks in raw buffers (pointer + element count + DType), never in backend calls and never in
// torch types: the MPI backend (host memory; device memory staged through the host), the NCCL
// backend (CUDA builds, one communicator per group for the life of the job) and an in-process
// fake for unit tests all implement it. The training verbs (gather a unit's parameters,
// reduce-scatter its gradient) live in the ShardedModel (train/sharded_gpt.hpp), built on these.
// Only the backend source files include mpi.h collectives or nccl.h; the factories that need an
// MPI communicator are declared in comm/mpi_collectives.hpp, so this header stays MPI-free.
//
// Every call is collective over the group unless said otherwise, and every rank must make the
// same calls in the same order with the same counts. Buffers must not overlap unless said.
// Pointers may be host or (CUDA builds) device memory; in and out of one call are both host or
// both device.
//
// Ordering on CUDA (NCCL backend): a call is ordered after the work already queued on the
// compute stream (set_stream) and the compute stream's later work is ordered after it
// (synchronous calls) or after wait() (asynchronous ones). Neither blocks the host: "wait" means
// "make the compute stream wait", so no host sync happens in the step loop. On the host (MPI,
// fake) a call returns when its result is in `out`, and wait() blocks until then.
//
// Reductions: the MPI and fake backends reduce F32, F64, I32, I64 and U8 (Open MPI has no 16-bit
// float sum; convert to fp32 first); NCCL reduces every type. A 16-bit reduction on a backend
// without one is an InfraError, never a silently wrong result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mpitune {

enum class DType : uint8_t { F32, F64, BF16, F16, I32, I64, U8 };
enum class ReduceOp : uint8_t { Sum, Max, Min };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
const char* reduce_op_name(ReduceOp op);

// A collective started but not finished (for prefetching); wait() completes it (see the
// ordering note above). Destroying a pending collective that was not waited for waits for it.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
};

class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "mpi", "nccl", "fake"

  // in: `count` elements; out: size() * count elements, rank r's block at r * count.
  virtual void all_gather(const void* in, void* out, size_t count, DType t) = 0;
  // The same, started now and finished by wait() (in and out must stay alive until then).
  virtual std::unique_ptr<PendingCollective> all_gather_async(const void* in, void* out,
                                                              size_t count, DType t) = 0;
  // in: size() * count elements; out (count elements) = op over ranks of block rank().
  virtual void reduce_scatter(const void* in, void* out, size_t count, DType t, ReduceOp op) = 0;
  // The same, started now and finished by wait() (in and out must stay alive until then).
  virtual std::unique_ptr<PendingCollective> reduce_scatter_async(const void* in, void* out,
                                                                  size_t count, DType t,
                                                                  ReduceOp op) = 0;
  // In place.
  virtual void all_reduce(void* buf, size_t count, DType t, ReduceOp op) = 0;
  // In place: root's buffer reaches every rank.
  virtual void broadcast(void* buf, size_t count, DType t, int root) = 0;
  // Point to point inside the group (not collective): a send matches the recv of the same
  // count and type on `peer`, in order.
  virtual void send(const void* buf, size_t count, DType t, int peer) = 0;
  virtual void recv(void* buf, size_t count, DType t, int peer) = 0;
  virtual void barrier() = 0;

  // CUDA builds: the stream the caller computes on (a cudaStream_t; null = the legacy default
  // stream, torch's default). Device-memory calls are ordered against it. Host backends ignore it.
  virtual void set_stream(void* cuda_stream) { (void)cuda_stream; }
};

// Bytes of any length between two ranks (the length travels first), e.g. a rank's training
// state moving to the same rank of another group. Host memory.
void send_bytes(Collectives& c, const std::vector<uint8_t>& bytes, int peer);
std::vector<uint8_t> recv_bytes(Collectives& c, int peer);

// In-process fake: `size` ranks that are threads of one process. make_fake_group returns one
// Collectives per rank; each must be driven from its own thread, as ranks would be. Host memory
// only. A call whose count, type or kind differs between ranks is an InfraError on every rank.
std::vector<std::shared_ptr<Collectives>> make_fake_group(int size);

}  // namespace mpitune
