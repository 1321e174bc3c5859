// The NCCL backend of Collectives (see comm/mpi_collectives.hpp): the only source file that
// includes nccl.h. One communicator per group, created once; every device-memory call runs on a
// side stream: the side stream first waits on an event recorded on the compute stream (so the
// inputs are ready), the NCCL call is queued, and an event recorded after it is what the compute
// stream waits on (at once for synchronous calls, in wait() for asynchronous ones). The host is
// never blocked. Host-memory calls (losses, checksums, the state bytes of a checkpoint) go
// through MPI on the same group.
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "../cuda_staging.hpp"
#include "mpitune/comm/cuda_check.hpp"
#include "mpitune/comm/device_check.hpp"
#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/core/error.hpp"
#include "nccl_check.hpp"

namespace mpitune {
namespace {

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::F32: return ncclFloat32;
    case DType::F64: return ncclFloat64;
    case DType::BF16: return ncclBfloat16;
    case DType::F16: return ncclFloat16;
    case DType::I32: return ncclInt32;
    case DType::I64: return ncclInt64;
    case DType::U8: return ncclUint8;
  }
  throw InfraError("unknown DType");
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return ncclSum;
    case ReduceOp::Max: return ncclMax;
    case ReduceOp::Min: return ncclMin;
  }
  throw InfraError("unknown ReduceOp");
}

// The compute stream waits for `done` (recorded on the side stream after a collective).
class NcclPending final : public PendingCollective {
 public:
  NcclPending(cudaEvent_t done, cudaStream_t compute) : done_(done), compute_(compute) {}
  ~NcclPending() override {
    if (done_) {
      (void)cudaStreamWaitEvent(compute_, done_, 0);  // no throw from a destructor
      (void)cudaEventDestroy(done_);
    }
  }
  void wait() override {
    if (!done_) return;
    CUDA_CHECK(cudaStreamWaitEvent(compute_, done_, 0));
    CUDA_CHECK(cudaEventDestroy(done_));  // released by CUDA once the event has completed
    done_ = nullptr;
  }

 private:
  cudaEvent_t done_;
  cudaStream_t compute_;
};

// "host|PCI bus id" of `device`, equal for two ranks exactly when they would share a GPU.
std::string gpu_key(int device) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "?");
  char bus[64] = {};
  CUDA_CHECK(cudaDeviceGetPCIBusId(bus, sizeof bus, device));
  return std::string(host) + "|" + bus;
}

class NcclCollectives final : public Collectives {
 public:
  NcclCollectives(MPI_Comm group, int device) : host_(make_mpi_collectives(group)), device_(device) {
    rank_ = host_->rank();
    size_ = host_->size();
    CUDA_CHECK(cudaSetDevice(device_));
    check_distinct_gpus();
    ncclUniqueId id;
    std::memset(&id, 0, sizeof id);
    if (rank_ == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    host_->broadcast(&id, sizeof id, DType::U8, 0);
    NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
    CUDA_CHECK(cudaStreamCreateWithFlags(&side_, cudaStreamNonBlocking));
  }
  ~NcclCollectives() override {
    if (comm_) (void)ncclCommDestroy(comm_);
    if (side_) (void)cudaStreamDestroy(side_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  void set_stream(void* stream) override { compute_ = static_cast<cudaStream_t>(stream); }

  void all_gather(const void* in, void* out, size_t count, DType t) override {
    if (!on_device(in, out)) return host_->all_gather(in, out, count, t);
    all_gather_async(in, out, count, t)->wait();
  }

  std::unique_ptr<PendingCollective> all_gather_async(const void* in, void* out, size_t count,
                                                      DType t) override {
    if (!on_device(in, out)) {
      host_->all_gather(in, out, count, t);
      return std::make_unique<NcclPending>(nullptr, compute_);
    }
    begin();
    NCCL_CHECK(ncclAllGather(in, out, count, nccl_type(t), comm_, side_));
    return end();
  }

  void reduce_scatter(const void* in, void* out, size_t count, DType t, ReduceOp op) override {
    if (!on_device(in, out)) return host_->reduce_scatter(in, out, count, t, op);
    reduce_scatter_async(in, out, count, t, op)->wait();
  }

  std::unique_ptr<PendingCollective> reduce_scatter_async(const void* in, void* out, size_t count,
                                                          DType t, ReduceOp op) override {
    if (!on_device(in, out)) {
      host_->reduce_scatter(in, out, count, t, op);
      return std::make_unique<NcclPending>(nullptr, compute_);
    }
    begin();
    NCCL_CHECK(ncclReduceScatter(in, out, count, nccl_type(t), nccl_op(op), comm_, side_));
    return end();
  }

  void all_reduce(void* buf, size_t count, DType t, ReduceOp op) override {
    if (!on_device(buf, buf)) return host_->all_reduce(buf, count, t, op);
    begin();
    NCCL_CHECK(ncclAllReduce(buf, buf, count, nccl_type(t), nccl_op(op), comm_, side_));
    end()->wait();
  }

  void broadcast(void* buf, size_t count, DType t, int root) override {
    if (!on_device(buf, buf)) return host_->broadcast(buf, count, t, root);
    begin();
    NCCL_CHECK(ncclBroadcast(buf, buf, count, nccl_type(t), root, comm_, side_));
    end()->wait();
  }

  void send(const void* buf, size_t count, DType t, int peer) override {
    if (!on_device(buf, buf)) return host_->send(buf, count, t, peer);
    begin();
    NCCL_CHECK(ncclSend(buf, count, nccl_type(t), peer, comm_, side_));
    end()->wait();
  }

  void recv(void* buf, size_t count, DType t, int peer) override {
    if (!on_device(buf, buf)) return host_->recv(buf, count, t, peer);
    begin();
    NCCL_CHECK(ncclRecv(buf, count, nccl_type(t), peer, comm_, side_));
    end()->wait();
  }

  void barrier() override { host_->barrier(); }

 private:
  // Two ranks of one communicator on one GPU: say so before NCCL fails with "invalid usage".
  void check_distinct_gpus() {
    constexpr size_t kKey = 320;
    std::string mine = gpu_key(device_);
    mine.resize(kKey, '\0');
    std::vector<char> all(kKey * static_cast<size_t>(size_));
    host_->all_gather(mine.data(), all.data(), kKey, DType::U8);
    std::vector<std::string> keys;
    for (int r = 0; r < size_; ++r) {
      const char* k = all.data() + kKey * static_cast<size_t>(r);
      keys.emplace_back(k, strnlen(k, kKey));
    }
    if (auto clash = shared_gpu_clash(keys)) throw_shared_gpu(*clash);
  }

  static bool on_device(const void* in, const void* out) {
    const bool a = is_device_pointer(in), b = is_device_pointer(out);
    MPITUNE_CHECK(a == b, "a collective's input and output must both be host or both be device memory");
    return a;
  }

  // The side stream waits for the work already queued on the compute stream.
  void begin() {
    CUDA_CHECK(cudaSetDevice(device_));
    cudaEvent_t ready = nullptr;
    CUDA_CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventRecord(ready, compute_));
    CUDA_CHECK(cudaStreamWaitEvent(side_, ready, 0));
    CUDA_CHECK(cudaEventDestroy(ready));
  }
  // The event that marks the collective's end on the side stream.
  std::unique_ptr<PendingCollective> end() {
    cudaEvent_t done = nullptr;
    CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventRecord(done, side_));
    return std::make_unique<NcclPending>(done, compute_);
  }

  std::unique_ptr<Collectives> host_;
  int device_;
  int rank_ = 0;
  int size_ = 1;
  ncclComm_t comm_ = nullptr;
  cudaStream_t side_ = nullptr;
  cudaStream_t compute_ = nullptr;  // legacy default stream until set_stream
};

}  // namespace

bool nccl_built() { return true; }

std::unique_ptr<Collectives> make_nccl_collectives(MPI_Comm group, int device) {
  return std::make_unique<NcclCollectives>(group, device);
}

}  // namespace mpitune
