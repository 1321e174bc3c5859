// CUDA builds: where a pointer lives and the blocking host <-> device copies of the MPI
// backend's staging path (see src/comm/cuda_staging.hpp).
#include "../cuda_staging.hpp"

#include <cuda_runtime_api.h>

#include "mpitune/comm/cuda_check.hpp"

namespace mpitune {

bool is_device_pointer(const void* p) {
  if (p == nullptr) return false;
  cudaPointerAttributes attr{};
  if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
    (void)cudaGetLastError();  // a plain host pointer on old runtimes: clear the sticky error
    return false;
  }
  return attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged;
}

void sync_stream(void* stream) { CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream))); }

void copy_device_to_host(void* host, const void* device, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost));
}

void copy_host_to_device(void* device, const void* host, size_t bytes) {
  if (!bytes) return;
  CUDA_CHECK(cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice));
  // From pageable memory cudaMemcpy may return before the DMA lands; the compute stream may be a
  // non-blocking one that the legacy stream does not order, so wait here (staging is not a fast path).
  CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

}  // namespace mpitune
