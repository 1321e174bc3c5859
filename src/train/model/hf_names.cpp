// Hugging Face / PEFT names of parameters and the shape check of a model folder (see hf_names.hpp).
#include "mpitune/train/hf_names.hpp"

#include "mpitune/core/error.hpp"
#include "mpitune/hf/safetensors.hpp"

namespace mpitune {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

std::string weights_prefix(const ModelSpec& spec, const SafetensorsFolder& folder) {
  if (spec.family != ArchFamily::Gpt2) return "";
  if (folder.has("transformer.wte.weight")) return "transformer.";
  if (folder.has("wte.weight")) return "";
  throw ConfigError("model.path", folder.dir() + " holds no GPT-2 token embedding (transformer.wte.weight or wte.weight)",
                    "is this the folder of a gpt2 model? config.json says model_type gpt2");
}

std::string hf_param_name(const UnitLayout& b, const ParamSpec& p, const std::string& prefix) {
  if (p.name == "lm_head.weight") return p.name;
  return prefix + b.prefix + p.name;
}

std::string peft_param_name(const ModelSpec& spec, const UnitLayout& b, const ParamSpec& p) {
  return "base_model.model." + hf_param_name(b, p, spec.family == ArchFamily::Gpt2 ? "transformer." : "");
}

void check_pretrained_weights(const ModelSpec& spec, const std::vector<UnitLayout>& layout,
                              const SafetensorsFolder& folder) {
  const std::string prefix = weights_prefix(spec, folder);
  for (const auto& b : layout) {
    if (b.adapters) continue;
    for (const auto& p : b.params) {
      const std::string name = hf_param_name(b, p, prefix);
      if (!folder.has(name))
        throw ConfigError("model.path", folder.dir() + " has no tensor '" + name + "'",
                          spec.tied || name != "lm_head.weight"
                              ? "the weights do not match config.json; is the download complete?"
                              : "config.json says tie_word_embeddings = false but the head is missing");
      const TensorEntry& e = folder.entry(name);
      if (e.shape != p.file_shape)
        throw ConfigError("model.path", "tensor '" + name + "' in " + folder.dir() + " has shape " + shape_str(e.shape) +
                                            " but config.json implies " + shape_str(p.file_shape),
                          "the weights do not match config.json");
      if (e.dtype != TensorDType::F32 && e.dtype != TensorDType::BF16 && e.dtype != TensorDType::F16)
        throw ConfigError("model.path", "tensor '" + name + "' is stored as " + dtype_name(e.dtype),
                          "mpitune reads F32, BF16 and F16 weights");
    }
  }
}

}  // namespace mpitune
