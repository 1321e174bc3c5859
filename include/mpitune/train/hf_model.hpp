// A Hugging Face model folder, or a PEFT adapter folder over one, opened as a dense model on one
// process: what `mpitune eval` computes with.
#pragma once

#include <memory>
#include <string>

#include "mpitune/hf/hf_config.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_model.hpp"

namespace mpitune {

struct HfModel {
  std::string base_dir;      // the folder of config.json and the weights
  std::string adapter_dir;   // the PEFT adapter folder, or ""
  HfModelConfig config;
  std::unique_ptr<SafetensorsFolder> weights;
  std::unique_ptr<SafetensorsFile> adapter;
  std::shared_ptr<const Tokenizer> tokenizer;
  ModelSpec spec;
  std::unique_ptr<GptModel> model;
};

// `dir`: a model folder, or an adapter folder (adapter_config.json; its base_model_name_or_path
// is the model folder). `tokenizer`: as [data] tokenizer ("auto": the model folder's).
// ConfigError naming --model, --adapter or --tokenizer when something does not fit.
HfModel open_hf_model(const std::string& dir, const std::string& tokenizer, int64_t seq_len, Precision precision);

}  // namespace mpitune
