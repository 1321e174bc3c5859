// The tokenizer and pretrained folder of an experiment (see model_source.hpp).
#include "mpitune/train/model_source.hpp"

namespace mpitune {

ModelSource ModelSource::open(const ExperimentConfig& base) {
  ModelSource s;
  const bool pretrained = base.model.init == "pretrained";
  if (pretrained) {
    s.hf = HfModelConfig::load(base.model.path);
    s.weights = SafetensorsFolder::open(base.model.path);
  }
  s.tokenizer = load_tokenizer(base.data.tokenizer, pretrained ? base.model.path : "");
  return s;
}

ModelSpec ModelSource::spec(const ExperimentConfig& trial) const {
  return ModelSpec::from_config(trial, hf ? &*hf : nullptr, tokenizer->vocab_size());
}

}  // namespace mpitune
