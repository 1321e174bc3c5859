// Hugging Face and PEFT names of mpitune's parameters, and the check that a model folder holds
// every tensor a layout needs with the right shape. No torch here.
//
// GPT-2 folders come in two spellings: GPT2LMHeadModel's ("transformer.h.0.attn.c_attn.weight")
// and GPT2Model's ("h.0.attn.c_attn.weight"); both load, and the buffers attn.bias /
// attn.masked_bias that older files carry are ignored. An exported GPT-2 uses GPT2LMHeadModel's
// spelling (what save_pretrained writes). Llama-family names are the same in every file.
#pragma once

#include <string>
#include <vector>

#include "mpitune/train/model_layout.hpp"

namespace mpitune {

class SafetensorsFolder;

// The prefix the folder's GPT-2 tensors carry ("transformer." or ""); "" for the llama family.
// ConfigError("model.path") when the folder has neither spelling of the token embedding.
std::string weights_prefix(const ModelSpec& spec, const SafetensorsFolder& folder);

// The tensor name of parameter `p` of buffer `b` in a Hugging Face file whose GPT-2 prefix is
// `prefix` (the head, lm_head.weight, never takes it).
std::string hf_param_name(const UnitLayout& b, const ParamSpec& p, const std::string& prefix);

// PEFT's key of an adapter parameter in adapter_model.safetensors:
// "base_model.model." + the module path in the *ForCausalLM model + ".lora_A.weight".
std::string peft_param_name(const ModelSpec& spec, const UnitLayout& b, const ParamSpec& p);

// Every base (non-adapter) parameter of `layout` is in the folder with its file_shape, and the
// dtypes are F32, BF16 or F16. Throws ConfigError("model.path", ...) naming the first missing
// or mis-shaped tensor and the file it should be in.
void check_pretrained_weights(const ModelSpec& spec, const std::vector<UnitLayout>& layout,
                              const SafetensorsFolder& folder);

}  // namespace mpitune
