// The MPI backend of Collectives (see comm/mpi_collectives.hpp): the only source file that calls
// MPI's data-plane collectives. Host buffers go to MPI directly; device buffers (CUDA builds) are
// staged through host memory after the compute stream is synchronised, one blocking call at a
// time (the path two ranks sharing one GPU take; not a fast path). Asynchronous host calls use
// MPI's non-blocking collectives; Open MPI progresses them inside MPI calls, so most of the
// transfer happens in wait(), but the posting rank computes instead of idling for its slowest peer.
#include "mpitune/comm/mpi_collectives.hpp"

#include <climits>
#include <string>
#include <vector>

#include "cuda_staging.hpp"
#include "host_reduce.hpp"
#include "mpitune/comm/mpi_check.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {

#ifndef MPITUNE_CUDA
// CPU build: no pointer is device memory (the CUDA versions are in src/comm/nccl/).
bool is_device_pointer(const void*) { return false; }
void sync_stream(void*) {}
void copy_device_to_host(void*, const void*, size_t) { throw InfraError("device copy in a CPU build"); }
void copy_host_to_device(void*, const void*, size_t) { throw InfraError("device copy in a CPU build"); }
#endif

namespace {

constexpr int kSendTag = 17;

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::F32: return MPI_FLOAT;
    case DType::F64: return MPI_DOUBLE;
    case DType::BF16:
    case DType::F16: return MPI_UINT16_T;  // moved as bits; never reduced (see check_reducible)
    case DType::I32: return MPI_INT32_T;
    case DType::I64: return MPI_INT64_T;
    case DType::U8: return MPI_UINT8_T;
  }
  throw InfraError("unknown DType");
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return MPI_SUM;
    case ReduceOp::Max: return MPI_MAX;
    case ReduceOp::Min: return MPI_MIN;
  }
  throw InfraError("unknown ReduceOp");
}

void check_reducible(DType t) {
  if (!host_reducible(t))
    throw InfraError(std::string("the MPI backend cannot reduce ") + dtype_name(t) +
                     ": Open MPI has no 16-bit float sum; convert to fp32 before reducing");
}

int as_int(size_t count, const char* what) {
  if (count > static_cast<size_t>(INT_MAX))
    throw InfraError(std::string(what) + " of " + std::to_string(count) +
                     " elements exceeds MPI's int count; shard the buffer");
  return static_cast<int>(count);
}

class MpiPending final : public PendingCollective {
 public:
  MpiPending() = default;
  ~MpiPending() override {
    if (req_ != MPI_REQUEST_NULL) MPI_Wait(&req_, MPI_STATUS_IGNORE);  // no throw from a destructor
  }
  MPI_Request* request() { return &req_; }
  void wait() override {
    if (req_ != MPI_REQUEST_NULL) MPI_CHECK(MPI_Wait(&req_, MPI_STATUS_IGNORE));
  }

 private:
  MPI_Request req_ = MPI_REQUEST_NULL;
};

class MpiCollectives final : public Collectives {
 public:
  MpiCollectives(MPI_Comm group, bool device_buffers) : device_buffers_(device_buffers) {
    MPITUNE_CHECK(group != MPI_COMM_NULL, "MPI collectives need a group communicator");
    MPI_CHECK(MPI_Comm_dup(group, &comm_));
    MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    MPI_CHECK(MPI_Comm_size(comm_, &size_));
  }
  ~MpiCollectives() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  void set_stream(void* stream) override { stream_ = stream; }

  void all_gather(const void* in, void* out, size_t count, DType t) override {
    const int n = as_int(count, "all_gather");
    if (!on_device(in, out)) {
      MPI_CHECK(MPI_Allgather(in, n, mpi_type(t), out, n, mpi_type(t), comm_));
      return;
    }
    const size_t block = count * dtype_size(t);
    std::vector<uint8_t> hin(block), hout(block * static_cast<size_t>(size_));
    sync_stream(stream_);
    copy_device_to_host(hin.data(), in, block);
    MPI_CHECK(MPI_Allgather(hin.data(), n, mpi_type(t), hout.data(), n, mpi_type(t), comm_));
    copy_host_to_device(out, hout.data(), hout.size());
  }

  std::unique_ptr<PendingCollective> all_gather_async(const void* in, void* out, size_t count,
                                                      DType t) override {
    auto p = std::make_unique<MpiPending>();
    if (on_device(in, out)) {
      all_gather(in, out, count, t);  // staged: completes now
      return p;
    }
    const int n = as_int(count, "all_gather");
    MPI_CHECK(MPI_Iallgather(in, n, mpi_type(t), out, n, mpi_type(t), comm_, p->request()));
    return p;
  }

  void reduce_scatter(const void* in, void* out, size_t count, DType t, ReduceOp op) override {
    check_reducible(t);
    const int n = as_int(count, "reduce_scatter");
    if (!on_device(in, out)) {
      MPI_CHECK(MPI_Reduce_scatter_block(in, out, n, mpi_type(t), mpi_op(op), comm_));
      return;
    }
    const size_t block = count * dtype_size(t);
    std::vector<uint8_t> hin(block * static_cast<size_t>(size_)), hout(block);
    sync_stream(stream_);
    copy_device_to_host(hin.data(), in, hin.size());
    MPI_CHECK(MPI_Reduce_scatter_block(hin.data(), hout.data(), n, mpi_type(t), mpi_op(op), comm_));
    copy_host_to_device(out, hout.data(), block);
  }

  std::unique_ptr<PendingCollective> reduce_scatter_async(const void* in, void* out, size_t count,
                                                          DType t, ReduceOp op) override {
    check_reducible(t);
    auto p = std::make_unique<MpiPending>();
    if (on_device(in, out)) {
      reduce_scatter(in, out, count, t, op);
      return p;
    }
    const int n = as_int(count, "reduce_scatter");
    MPI_CHECK(MPI_Ireduce_scatter_block(in, out, n, mpi_type(t), mpi_op(op), comm_, p->request()));
    return p;
  }

  void all_reduce(void* buf, size_t count, DType t, ReduceOp op) override {
    check_reducible(t);
    const int n = as_int(count, "all_reduce");
    if (!on_device(buf, buf)) {
      MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf, n, mpi_type(t), mpi_op(op), comm_));
      return;
    }
    std::vector<uint8_t> h(count * dtype_size(t));
    sync_stream(stream_);
    copy_device_to_host(h.data(), buf, h.size());
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, h.data(), n, mpi_type(t), mpi_op(op), comm_));
    copy_host_to_device(buf, h.data(), h.size());
  }

  void broadcast(void* buf, size_t count, DType t, int root) override {
    const int n = as_int(count, "broadcast");
    if (!on_device(buf, buf)) {
      MPI_CHECK(MPI_Bcast(buf, n, mpi_type(t), root, comm_));
      return;
    }
    std::vector<uint8_t> h(count * dtype_size(t));
    if (rank_ == root) {
      sync_stream(stream_);
      copy_device_to_host(h.data(), buf, h.size());
    }
    MPI_CHECK(MPI_Bcast(h.data(), n, mpi_type(t), root, comm_));
    if (rank_ != root) copy_host_to_device(buf, h.data(), h.size());
  }

  void send(const void* buf, size_t count, DType t, int peer) override {
    const int n = as_int(count, "send");
    if (!on_device(buf, buf)) {
      MPI_CHECK(MPI_Send(buf, n, mpi_type(t), peer, kSendTag, comm_));
      return;
    }
    std::vector<uint8_t> h(count * dtype_size(t));
    sync_stream(stream_);
    copy_device_to_host(h.data(), buf, h.size());
    MPI_CHECK(MPI_Send(h.data(), n, mpi_type(t), peer, kSendTag, comm_));
  }

  void recv(void* buf, size_t count, DType t, int peer) override {
    const int n = as_int(count, "recv");
    if (!on_device(buf, buf)) {
      MPI_CHECK(MPI_Recv(buf, n, mpi_type(t), peer, kSendTag, comm_, MPI_STATUS_IGNORE));
      return;
    }
    std::vector<uint8_t> h(count * dtype_size(t));
    MPI_CHECK(MPI_Recv(h.data(), n, mpi_type(t), peer, kSendTag, comm_, MPI_STATUS_IGNORE));
    copy_host_to_device(buf, h.data(), h.size());
  }

  void barrier() override { MPI_CHECK(MPI_Barrier(comm_)); }

 private:
  bool on_device(const void* in, const void* out) const {
    if (!device_buffers_) return false;
    const bool a = is_device_pointer(in), b = is_device_pointer(out);
    MPITUNE_CHECK(a == b, "a collective's input and output must both be host or both be device memory");
    return a;
  }

  bool device_buffers_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  void* stream_ = nullptr;
};

}  // namespace

std::unique_ptr<Collectives> make_mpi_collectives(MPI_Comm group, bool device_buffers) {
  return std::make_unique<MpiCollectives>(group, device_buffers);
}

}  // namespace mpitune
