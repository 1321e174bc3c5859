// A Hugging Face model or PEFT adapter folder as a dense model (see hf_model.hpp).
#include "mpitune/train/hf_model.hpp"

#include <ATen/ATen.h>

#include "mpitune/core/error.hpp"
#include "mpitune/train/dense_gpt.hpp"
#include "mpitune/train/hf_export.hpp"
#include "mpitune/train/hf_names.hpp"
#include "mpitune/train/model_layout.hpp"
#include "mpitune/train/state_io.hpp"

namespace mpitune {

HfModel open_hf_model(const std::string& dir, const std::string& tokenizer, int64_t seq_len, Precision precision) {
  HfModel m;
  m.base_dir = dir;
  std::optional<PeftAdapterConfig> peft;
  if (file_exists(dir + "/adapter_config.json")) {
    peft = read_peft_adapter_config(dir);
    if (peft->base_model.empty() || !file_exists(peft->base_model + "/config.json"))
      throw ConfigError("--model", dir + " is an adapter whose base model '" + peft->base_model + "' is not a folder here",
                        "edit base_model_name_or_path in its adapter_config.json to the base model's folder");
    m.adapter_dir = dir;
    m.base_dir = peft->base_model;
  }
  m.config = HfModelConfig::load(m.base_dir);
  m.weights = std::make_unique<SafetensorsFolder>(SafetensorsFolder::open(m.base_dir));
  m.tokenizer = load_tokenizer(tokenizer, m.base_dir);

  ExperimentConfig c;  // only what ModelSpec::from_config reads
  c.model.init = "pretrained";
  c.model.path = m.base_dir;
  c.model.seq_len = static_cast<int>(seq_len);
  if (peft) {
    c.lora.rank = static_cast<int>(peft->rank);
    c.lora.alpha = peft->alpha;
    c.lora.dropout = peft->dropout;
    std::string targets;
    for (const auto& t : peft->target_modules) targets += (targets.empty() ? "" : ",") + t;
    c.lora.targets = targets;
  }
  m.spec = ModelSpec::from_config(c, &m.config, m.tokenizer->vocab_size());
  check_pretrained_weights(m.spec, model_layout(m.spec), *m.weights);
  ModelInit init;
  init.weights = m.weights.get();
  if (peft) {
    m.adapter = SafetensorsFile::open(dir + "/adapter_model.safetensors");
    init.adapter_weights = m.adapter.get();
  }
  m.model = make_dense_gpt(m.spec, init, at::kCPU, precision, nullptr);
  return m;
}

}  // namespace mpitune
