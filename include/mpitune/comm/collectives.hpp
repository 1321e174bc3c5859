// Collectives: the data plane of one trial group (ranks 0..G-1 of the group communicator).
//
// Speaks in buffers and training verbs' building blocks, never in backend calls: the MPI
// backend (host memory; device memory staged through the host), the NCCL backend (CUDA builds,
// one communicator per group for the life of the job) and an in-process fake for unit tests
// all implement it. Only the backend source files include mpi.h collectives or nccl.h.
// Every call is collective over the group unless said otherwise; buffers may alias only where
// said. Pointers may be host or (CUDA builds) device memory.
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

// A collective started but not finished (for prefetching); wait() completes it.
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
  // In place.
  virtual void all_reduce(void* buf, size_t count, DType t, ReduceOp op) = 0;
  virtual void broadcast(void* buf, size_t count, DType t, int root) = 0;
  // Point to point inside the group (not collective).
  virtual void send(const void* buf, size_t count, DType t, int peer) = 0;
  virtual void recv(void* buf, size_t count, DType t, int peer) = 0;
  virtual void barrier() = 0;
};

// In-process fake: `size` ranks that are threads of one process. make_fake_group returns one
// Collectives per rank; each must be driven from its own thread, as ranks would be.
std::vector<std::shared_ptr<Collectives>> make_fake_group(int size);

}  // namespace mpitune
