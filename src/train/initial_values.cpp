// A model's first values, by element range of a buffer: read from a Hugging Face folder or drawn
// from the trial's seed (see initial_values in gpt_model.hpp).
#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/hf_names.hpp"
#include "mpitune/train/param_table.hpp"

namespace mpitune {

void initial_values(const ModelSpec& spec, const std::vector<UnitLayout>& layout, size_t b, const ModelInit& init,
                    int64_t begin, int64_t end, float* out) {
  const UnitLayout& buf = layout.at(b);
  MPITUNE_CHECK(begin >= 0 && begin <= end, "bad initial-value range");
  std::fill(out, out + (end - begin), 0.0f);
  const int64_t stop = std::min(end, buf.numel);  // past numel: ZeRO-3 padding, zero
  if (begin >= stop) return;
  const bool from_file = buf.adapters ? init.adapter_weights != nullptr : init.weights != nullptr;
  if (from_file) {
    // Only the element ranges of each file tensor that overlap [begin, stop) are read.
    const std::string prefix = buf.adapters ? "" : weights_prefix(spec, *init.weights);
    for (const auto& p : buf.params) {
      const int64_t lo = std::max(begin, p.offset), hi = std::min(stop, p.offset + p.file_numel);
      if (lo >= hi) continue;
      float* dst = out + (lo - begin);
      if (!buf.adapters) {
        init.weights->read_f32(hf_param_name(buf, p, prefix), lo - p.offset, hi - lo, dst);
        continue;
      }
      const std::string name = peft_param_name(spec, buf, p);
      const TensorEntry* e = init.adapter_weights->find(name);
      if (!e || e->shape != p.file_shape)
        throw ConfigError("--adapter", init.adapter_weights->path() + (e ? " has a wrongly shaped '" : " has no '") +
                                           name + "'",
                          "the adapter does not match its adapter_config.json and base model");
      init.adapter_weights->read_f32(*e, lo - p.offset, hi - lo, dst);
    }
    return;
  }
  // Seeded by the buffer's name, so a block's base values do not depend on whether LoRA adds
  // adapter buffers around it.
  const at::Tensor all = init_buffer(buf, spec.n_layer, derive_seed(init.seed, "init:" + buf.name));
  std::memcpy(out, all.data_ptr<float>() + begin, static_cast<size_t>(stop - begin) * sizeof(float));
}

}  // namespace mpitune
