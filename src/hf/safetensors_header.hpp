// The JSON header of a safetensors file: parsed and checked for the reader, written for the
// writer. Private to mpitune_hf; the format is described in include/mpitune/hf/safetensors.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mpitune/hf/safetensors.hpp"

namespace mpitune::hf_detail {

// The reference implementation refuses headers above 100 MB; a length past that is a corrupt
// or foreign file, not a model with millions of tensors.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct SafetensorsHeader {
  std::vector<TensorEntry> tensors;  // sorted by data offset
  std::map<std::string, std::string> metadata;
};

// Parses `size` bytes of header JSON. Checks every entry against a data section of
// `data_bytes` bytes: known dtype, shape of non-negative integers, data_offsets [begin, end]
// with begin <= end <= data_bytes, end - begin == numel x dtype size, no two tensors sharing a
// byte, no name twice. InfraError "<where>: ..." for the first problem found.
SafetensorsHeader parse_header(const char* json, size_t size, uint64_t data_bytes,
                               const std::string& where);

// The header bytes for `tensors` (their offsets as given), `__metadata__` first when not
// empty, compact JSON padded with spaces to a multiple of 8 bytes as the reference writer does.
std::string serialize_header(const std::vector<TensorEntry>& tensors,
                             const std::map<std::string, std::string>& metadata);

}  // namespace mpitune::hf_detail
