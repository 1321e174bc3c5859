// NCCL_CHECK: every NCCL call's return code is checked; a failure throws InfraError naming the
// call, the place, NCCL's error string and its last-error detail. Internal to src/comm/nccl.
#pragma once

#include <nccl.h>

#include <string>

#include "mpitune/core/error.hpp"

namespace mpitune {
[[noreturn]] inline void throw_nccl_error(ncclResult_t code, const char* call, const char* file, int line) {
  const char* detail = ncclGetLastError(nullptr);
  throw InfraError(source_place(file, line) + ": " + call + " failed: " + ncclGetErrorString(code) +
                   (detail && *detail ? std::string(" (") + detail + ")" : std::string()));
}
}  // namespace mpitune

#define NCCL_CHECK(call)                                                     \
  do {                                                                       \
    const ncclResult_t mpitune_nccl_rc_ = (call);                            \
    if (mpitune_nccl_rc_ != ncclSuccess)                                     \
      ::mpitune::throw_nccl_error(mpitune_nccl_rc_, #call, __FILE__, __LINE__); \
  } while (0)
