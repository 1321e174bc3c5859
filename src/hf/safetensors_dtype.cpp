// The element types of safetensors files and the 16-bit float conversions (see safetensors.hpp).
//
// The conversions (inline in safetensors_convert.hpp, for the reader's loops) are written out
// on the bit patterns rather than left to the compiler or the CPU (F16C, AVX512-BF16): the
// result must be the same bits as torch's on every machine, and a model read here must equal
// the same model read by transformers. Widening is exact. Narrowing rounds to nearest, ties to
// even, overflows to infinity and keeps NaN a NaN (a quiet NaN with the input's sign for f16,
// torch's canonical 0x7FC0 for bf16).

#include "mpitune/core/error.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "safetensors_convert.hpp"

namespace mpitune {
namespace {

struct DTypeInfo {
  TensorDType type;
  const char* name;
  size_t bytes;
};

constexpr DTypeInfo kDTypes[] = {
    {TensorDType::F32, "F32", 4}, {TensorDType::BF16, "BF16", 2}, {TensorDType::F16, "F16", 2},
    {TensorDType::F64, "F64", 8}, {TensorDType::I64, "I64", 8},   {TensorDType::I32, "I32", 4},
    {TensorDType::I16, "I16", 2}, {TensorDType::I8, "I8", 1},     {TensorDType::U8, "U8", 1},
    {TensorDType::BOOL, "BOOL", 1},
};

const DTypeInfo& info_of(TensorDType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d;
  throw InfraError("unknown TensorDType " + std::to_string(static_cast<int>(t)));
}

}  // namespace

size_t dtype_bytes(TensorDType t) { return info_of(t).bytes; }

const char* dtype_name(TensorDType t) { return info_of(t).name; }

TensorDType parse_dtype(const std::string& name, const std::string& where) {
  for (const auto& d : kDTypes)
    if (name == d.name) return d.type;
  throw InfraError(where + ": unknown dtype '" + name +
                   "' (mpitune reads F32, BF16, F16, F64, I64, I32, I16, I8, U8, BOOL)");
}

int64_t TensorEntry::numel() const {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

float bf16_to_f32(uint16_t v) { return hf_detail::bf16_to_f32(v); }
uint16_t f32_to_bf16(float v) { return hf_detail::f32_to_bf16(v); }
float f16_to_f32(uint16_t v) { return hf_detail::f16_to_f32(v); }
uint16_t f32_to_f16(float v) { return hf_detail::f32_to_f16(v); }

}  // namespace mpitune
