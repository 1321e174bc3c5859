// CUDA_CHECK: every CUDA runtime call's return code is checked; a failure throws InfraError
// naming the call, the place and CUDA's error string. Include only from CUDA-only sources
// (src/comm/nccl/, or code behind MPITUNE_CUDA).
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "mpitune/core/error.hpp"

namespace mpitune {
[[noreturn]] inline void throw_cuda_error(cudaError_t code, const char* call, const char* file, int line) {
  throw InfraError(source_place(file, line) + ": " + call + " failed: " + cudaGetErrorName(code) + ": " +
                   cudaGetErrorString(code));
}
}  // namespace mpitune

#define CUDA_CHECK(call)                                                     \
  do {                                                                       \
    const cudaError_t mpitune_cuda_rc_ = (call);                             \
    if (mpitune_cuda_rc_ != cudaSuccess)                                     \
      ::mpitune::throw_cuda_error(mpitune_cuda_rc_, #call, __FILE__, __LINE__); \
  } while (0)
