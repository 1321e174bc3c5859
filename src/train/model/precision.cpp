// Precision names (see device.hpp). Apart from device.cpp because rank 0's config checks
// (gpt_config.cpp) read them and must not need libtorch.
#include "mpitune/core/error.hpp"
#include "mpitune/train/device.hpp"

namespace mpitune {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::F32;
  if (name == "bf16") return Precision::BF16;
  if (name == "fp16") return Precision::F16;
  throw InfraError("unknown precision '" + name + "'");
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::F32: return "fp32";
    case Precision::BF16: return "bf16";
    case Precision::F16: return "fp16";
  }
  return "?";
}

}  // namespace mpitune
