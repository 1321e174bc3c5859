// Keys of frozen buffer slices (see frozen_key.hpp).
#include "mpitune/train/frozen_key.hpp"

#include <ATen/ATen.h>

namespace mpitune {

std::string frozen_key(const ModelSpec& spec, const UnitLayout& buffer, Precision precision, at::Device device,
                       int rank, int group_size) {
  ModelSpec base = spec;
  base.lora = LoraSpec{};
  return buffer.name + "|" + base.shape_text() + "|" + spec.path + "|" + precision_name(precision) + "|" +
         device.str() + "|" + std::to_string(rank) + "/" + std::to_string(group_size);
}

at::Tensor frozen_slice(FrozenCache* cache, const ModelSpec& spec, const UnitLayout& buffer, Precision precision,
                        at::Device device, int rank, int group_size, const std::function<at::Tensor()>& load) {
  if (!cache) return load().to(compute_scalar_type(precision));
  const std::string key = frozen_key(spec, buffer, precision, device, rank, group_size);
  auto it = cache->slices.find(key);
  if (it == cache->slices.end()) it = cache->slices.emplace(key, load().to(compute_scalar_type(precision))).first;
  return it->second;
}

}  // namespace mpitune
