// Keys of frozen buffer slices (see frozen_key.hpp).
#include "mpitune/train/frozen_key.hpp"

namespace mpitune {

std::string frozen_key(const ModelSpec& spec, const UnitLayout& buffer, Precision precision, at::Device device,
                       int rank, int group_size) {
  ModelSpec base = spec;
  base.lora = LoraSpec{};
  return buffer.name + "|" + base.shape_text() + "|" + spec.path + "|" + precision_name(precision) + "|" +
         device.str() + "|" + std::to_string(rank) + "/" + std::to_string(group_size);
}

}  // namespace mpitune
