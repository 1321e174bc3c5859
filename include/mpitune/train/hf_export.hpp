// A trained model written as Hugging Face folders, and PEFT adapter folders read back.
//
// Full fine-tuning (or a scratch model): a folder transformers' from_pretrained loads —
// config.json (a pretrained model's own, torch_dtype updated; written from the spec for a
// scratch model), model.safetensors with save_pretrained's tensor names (GPT-2 with the
// "transformer." prefix, no attention-mask buffers, no tied lm_head; the token tables' padding
// rows dropped), and the tokenizer files next to them.
// LoRA: a folder PEFT's PeftModel.from_pretrained loads — adapter_config.json and
// adapter_model.safetensors with PEFT's key names (base_model.model.<module>.lora_A.weight
// [r, in], lora_B.weight [out, r]), fp32.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "mpitune/hf/safetensors.hpp"
#include "mpitune/train/model_layout.hpp"

namespace mpitune {

class Tokenizer;

struct ExportedFolder {
  std::string dir;
  std::vector<std::string> files;  // written or copied
  int64_t tensors = 0;
  uint64_t bytes = 0;              // safetensors data bytes
};

// `buffers`: the full fp32 values of every buffer of `layout` (buffer_values). `base_config_json`:
// the pretrained model's config.json text, or "" for a scratch model. `copy_from`: files copied
// into `out` when they exist (the tokenizer's, tokenizer_config.json, ...). InfraError on I/O
// failure; `out` is created (an existing folder is written into).
ExportedFolder export_hf_model(const ModelSpec& spec, const std::vector<UnitLayout>& layout,
                               const std::vector<at::Tensor>& buffers, TensorDType dtype,
                               const std::string& base_config_json, const std::vector<std::string>& copy_from,
                               int64_t bos_id, int64_t eos_id, const std::string& out);

// `buffers`: the full fp32 values of the adapter buffers of `layout` (others may be undefined).
ExportedFolder export_peft_adapter(const ModelSpec& spec, const std::vector<UnitLayout>& layout,
                                   const std::vector<at::Tensor>& buffers, const std::string& base_model_path,
                                   const std::string& out);

struct PeftAdapterConfig {
  std::string dir;
  std::string base_model;  // base_model_name_or_path
  int64_t rank = 0;
  double alpha = 0;
  double dropout = 0;
  std::vector<std::string> target_modules;
};
// Reads <dir>/adapter_config.json. ConfigError("--adapter", ...) when it is missing, not a LoRA
// adapter, or uses what mpitune does not implement (rslora, DoRA, bias, modules_to_save).
PeftAdapterConfig read_peft_adapter_config(const std::string& dir);

}  // namespace mpitune
