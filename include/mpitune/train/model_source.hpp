// What every trial of an experiment shares and rank 0 checks before the job: the tokenizer, and
// for a pretrained model its config.json and memory-mapped weights. Opening reads headers
// only (config.json, the tokenizer files, the safetensors headers), never the weights.
#pragma once

#include <memory>
#include <optional>

#include "mpitune/core/config.hpp"
#include "mpitune/hf/hf_config.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "mpitune/train/model_spec.hpp"

namespace mpitune {

struct ModelSource {
  std::shared_ptr<const Tokenizer> tokenizer;
  std::optional<HfModelConfig> hf;           // pretrained only
  std::optional<SafetensorsFolder> weights;  // pretrained only

  // ConfigError naming model.path or data.tokenizer when a folder or file is missing or
  // malformed.
  static ModelSource open(const ExperimentConfig& base);
  // The model of a trial's config (its hyperparameters applied).
  ModelSpec spec(const ExperimentConfig& trial) const;
};

}  // namespace mpitune
