// A Hugging Face model folder's config.json, read into the few numbers mpitune's models need.
//
// config.json decides the architecture (model_type, and architectures as a cross-check):
//   gpt2                   GPT2LMHeadModel: learned positions, LayerNorm, GELU (tanh), tied head
//   llama, mistral, qwen2  RMSNorm, RoPE (rope_theta, rotate-half), SwiGLU MLP, grouped-query
//                          attention (num_key_value_heads), q/k/v biases (qwen2, attention_bias),
//                          tie_word_embeddings either way
// Anything else is a ConfigError naming the model_type and what is supported. The whole JSON is
// kept (`json_text`) so an exported model's config.json is the base's with only what changed.
// No torch here.
#pragma once

#include <cstdint>
#include <string>

namespace mpitune {

enum class ArchFamily { Gpt2, Llama };
const char* arch_family_name(ArchFamily f);  // "gpt2" | "llama"

struct HfModelConfig {
  std::string dir;         // the folder
  std::string model_type;  // "gpt2", "llama", "mistral", "qwen2"
  std::string architecture;  // architectures[0], e.g. "LlamaForCausalLM"
  ArchFamily family = ArchFamily::Gpt2;

  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_kv_head = 0;         // = n_head without grouped-query attention
  int64_t head_dim = 0;          // hidden_size / n_head unless config.json says otherwise
  int64_t intermediate_size = 0; // MLP width (gpt2: n_inner or 4 hidden)
  int64_t max_positions = 0;     // n_positions / max_position_embeddings
  double norm_eps = 1e-5;        // layer_norm_epsilon / rms_norm_eps
  double rope_theta = 10000;
  bool tie_word_embeddings = true;
  bool qkv_bias = false;         // llama family: biases on q/k/v (qwen2 always; llama's attention_bias)
  bool o_bias = false;           // llama's attention_bias also puts one on o_proj
  bool mlp_bias = false;
  bool gelu_tanh = true;         // gpt2: gelu_new / gelu_pytorch_tanh (true) or exact gelu
  int64_t sliding_window = 0;    // mistral: attention window (0 = none)
  int64_t bos_token_id = -1;
  int64_t eos_token_id = -1;     // the first one when config.json lists several
  std::string torch_dtype;       // "float32", "bfloat16", "float16" or ""
  std::string json_text;         // config.json as read

  // Reads <dir>/config.json. ConfigError("model.path", ...) when the folder or the file is
  // missing or malformed, for an unsupported model_type, activation or rope_scaling.
  static HfModelConfig load(const std::string& dir);
  static HfModelConfig parse(const std::string& json_text, const std::string& dir);
};

}  // namespace mpitune
