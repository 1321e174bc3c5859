// Which ranks of one NCCL communicator would share a GPU: the pure part of the check that
// make_nccl_collectives runs before calling NCCL (which refuses two ranks of a communicator on
// one device with only "invalid usage").
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mpitune {

// keys[r]: rank r's "host|PCI bus id" (any text that is equal exactly when the GPU is the same).
// Returns the message of the first clash (ranks a < b with equal keys), or nothing.
std::optional<std::string> shared_gpu_clash(const std::vector<std::string>& keys);

// The ConfigError thrown for a clash, with what to do instead.
[[noreturn]] void throw_shared_gpu(const std::string& clash);

}  // namespace mpitune
