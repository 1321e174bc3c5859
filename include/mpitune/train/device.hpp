// Where and in what precision a GPT trial computes, and the process's compute threads.
#pragma once

#include <string>

namespace mpitune {

// Compute precision of the forward and backward passes. Master weights, gradients and the
// optimizer state are fp32 in every case; F16 needs CUDA and a dynamic loss scaler.
enum class Precision { F32, BF16, F16 };

// "fp32" | "bf16" | "fp16" (already checked by the config parser; anything else is InfraError).
Precision parse_precision(const std::string& name);
const char* precision_name(Precision p);

// Whether this libtorch build has CUDA and at least one device is visible.
bool cuda_available();
// CUDA devices visible to this process (0 without CUDA).
int cuda_device_count();
// Makes CUDA device `index` this process's current device (torch's and the CUDA runtime's), so
// that allocations and kernels of the trials land there. InfraError without CUDA.
void select_cuda_device(int index);

// Hands the CUDA caching allocator's unused blocks back to the device (torch.cuda.empty_cache),
// so a trial that follows one that ran out of memory does not inherit its fragments; nothing on
// CPU or without a CUDA build.
void release_cached_device_memory();

// train.device resolved: "auto" becomes "cuda" when cuda_available(), else "cpu".
std::string resolve_device(const std::string& device);

// Sets torch's intra-op threads to n (>= 1) for this process; the inter-op pool is set to one
// thread the first time only (torch allows that once, before any parallel work). Call it at
// worker start-up, before the first trial.
void set_compute_threads(int n);

}  // namespace mpitune
