// Element-wise reductions of host buffers, for the backends that reduce on the CPU themselves
// (the in-process fake). Internal to src/comm.
#pragma once

#include <cstddef>

#include "mpitune/comm/collectives.hpp"

namespace mpitune {

// Whether host code can reduce this type (no 16-bit floats: see collectives.hpp).
bool host_reducible(DType t);
// acc[i] = op(acc[i], x[i]) for i < count. Throws InfraError for a type that is not reducible.
void host_reduce_into(void* acc, const void* x, size_t count, DType t, ReduceOp op);

}  // namespace mpitune
