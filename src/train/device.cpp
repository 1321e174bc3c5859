// The CUDA query and torch's thread pools (see device.hpp; the precision names, which need no
// torch, are in model/precision.cpp).
#include "mpitune/train/device.hpp"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#ifdef MPITUNE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

#include <mutex>

#include "mpitune/core/error.hpp"

namespace mpitune {

bool cuda_available() { return torch::cuda::is_available(); }

int cuda_device_count() { return static_cast<int>(torch::cuda::device_count()); }

void select_cuda_device(int index) {
  const int n = cuda_device_count();
  if (index < 0 || index >= n)
    throw InfraError("CUDA device " + std::to_string(index) + " asked for, " + std::to_string(n) + " visible");
#ifdef MPITUNE_CUDA
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(index));
#endif
}

void release_cached_device_memory() {
#ifdef MPITUNE_CUDA
  if (cuda_available()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
}

std::string resolve_device(const std::string& device) {
  if (device == "auto") return cuda_available() ? "cuda" : "cpu";
  return device;
}

void set_compute_threads(int n) {
  MPITUNE_CHECK(n >= 1, "set_compute_threads needs at least one thread");
  // The inter-op pool serves only asynchronous ops that mpitune does not use; torch lets its size
  // be set once, before any parallel work, and throws after that, hence once and guarded.
  static std::once_flag interop_once;
  std::call_once(interop_once, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // Parallel work already ran (e.g. a test used torch first): keep torch's pool.
    }
  });
  at::set_num_threads(n);
}

}  // namespace mpitune
