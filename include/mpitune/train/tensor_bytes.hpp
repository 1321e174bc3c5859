// A 1-D tensor's values in a state byte stream: its element count and dtype, then its raw
// little-endian bytes (copied through host memory when it lives on a device).
#pragma once

#include <ATen/core/Tensor.h>

namespace mpitune {

class ByteReader;
class ByteWriter;

void write_tensor(ByteWriter& w, const at::Tensor& t);
// Reads into `t` (any device), which must have the written element count and dtype; a
// mismatch is an InfraError naming `what`.
void read_tensor(ByteReader& r, at::Tensor& t, const std::string& what);

}  // namespace mpitune
