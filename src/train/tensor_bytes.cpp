// Tensors in state byte streams (see tensor_bytes.hpp).
#include "mpitune/train/tensor_bytes.hpp"

#include <ATen/ATen.h>

#include "mpitune/train/state_io.hpp"

namespace mpitune {

void write_tensor(ByteWriter& w, const at::Tensor& t) {
  const at::Tensor host = t.detach().to(at::kCPU).contiguous();
  w.i64(host.numel());
  w.i64(static_cast<int64_t>(host.scalar_type()));
  w.raw(host.data_ptr(), host.nbytes());
}

void read_tensor(ByteReader& r, at::Tensor& t, const std::string& what) {
  const int64_t numel = r.i64();
  const int64_t type = r.i64();
  if (numel != t.numel() || type != static_cast<int64_t>(t.scalar_type()))
    r.fail(what + ": " + std::to_string(numel) + " elements of type " + std::to_string(type) + " stored, " +
           std::to_string(t.numel()) + " of type " + std::to_string(static_cast<int64_t>(t.scalar_type())) +
           " expected");
  at::Tensor host = at::empty({numel}, at::TensorOptions().dtype(t.scalar_type()));
  r.raw(host.data_ptr(), host.nbytes());
  t.detach().copy_(host.view(t.sizes()));
}

}  // namespace mpitune
