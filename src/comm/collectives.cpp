// DType names and sizes, and the length-prefixed byte transfer shared by every backend.
#include "mpitune/comm/collectives.hpp"

#include "mpitune/core/error.hpp"

namespace mpitune {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::BF16: return 2;
    case DType::F16: return 2;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::U8: return 1;
  }
  throw InfraError("unknown DType");
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::BF16: return "bf16";
    case DType::F16: return "f16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::U8: return "u8";
  }
  return "?";
}

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return "sum";
    case ReduceOp::Max: return "max";
    case ReduceOp::Min: return "min";
  }
  return "?";
}

void send_bytes(Collectives& c, const std::vector<uint8_t>& bytes, int peer) {
  const int64_t n = static_cast<int64_t>(bytes.size());
  c.send(&n, 1, DType::I64, peer);
  if (n > 0) c.send(bytes.data(), bytes.size(), DType::U8, peer);
}

std::vector<uint8_t> recv_bytes(Collectives& c, int peer) {
  int64_t n = 0;
  c.recv(&n, 1, DType::I64, peer);
  MPITUNE_CHECK(n >= 0, "negative byte count received");
  std::vector<uint8_t> bytes(static_cast<size_t>(n));
  if (n > 0) c.recv(bytes.data(), bytes.size(), DType::U8, peer);
  return bytes;
}

}  // namespace mpitune
