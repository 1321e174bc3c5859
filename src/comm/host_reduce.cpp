// Element-wise host reductions (see host_reduce.hpp).
#include "host_reduce.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

template <typename T>
void reduce_typed(void* acc, const void* x, size_t count, ReduceOp op) {
  T* a = static_cast<T*>(acc);
  const T* b = static_cast<const T*>(x);
  switch (op) {
    case ReduceOp::Sum:
      for (size_t i = 0; i < count; ++i) a[i] = static_cast<T>(a[i] + b[i]);
      break;
    case ReduceOp::Max:
      // NaN wins, as in NCCL and MPI's implementations: a non-finite value must never vanish.
      for (size_t i = 0; i < count; ++i) a[i] = (b[i] != b[i] || b[i] > a[i]) ? b[i] : a[i];
      break;
    case ReduceOp::Min:
      for (size_t i = 0; i < count; ++i) a[i] = (b[i] != b[i] || b[i] < a[i]) ? b[i] : a[i];
      break;
  }
}

}  // namespace

bool host_reducible(DType t) { return t != DType::BF16 && t != DType::F16; }

void host_reduce_into(void* acc, const void* x, size_t count, DType t, ReduceOp op) {
  switch (t) {
    case DType::F32: return reduce_typed<float>(acc, x, count, op);
    case DType::F64: return reduce_typed<double>(acc, x, count, op);
    case DType::I32: return reduce_typed<int32_t>(acc, x, count, op);
    case DType::I64: return reduce_typed<int64_t>(acc, x, count, op);
    case DType::U8: return reduce_typed<uint8_t>(acc, x, count, op);
    case DType::BF16:
    case DType::F16: break;
  }
  throw InfraError(std::string("no host reduction for ") + dtype_name(t) +
                   " (16-bit floats are reduced in fp32: convert before reducing)");
}

}  // namespace mpitune
