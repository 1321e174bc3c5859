// Device-memory helpers of the MPI backend (internal to src/comm). CUDA builds implement them in
// src/comm/nccl/cuda_staging.cpp; CPU builds have the stubs in mpi_collectives.cpp (no pointer is
// ever device memory there).
#pragma once

#include <cstddef>

namespace mpitune {

// Whether `p` points to CUDA device (or managed) memory.
bool is_device_pointer(const void* p);
// Waits until the work queued on `stream` (a cudaStream_t; null = legacy default) is done.
void sync_stream(void* stream);
// Blocking copies between host and device memory.
void copy_device_to_host(void* host, const void* device, size_t bytes);
void copy_host_to_device(void* device, const void* host, size_t bytes);

}  // namespace mpitune
