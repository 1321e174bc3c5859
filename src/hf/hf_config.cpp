// config.json of a Hugging Face model folder (see hf_config.hpp).
#include "mpitune/hf/hf_config.hpp"

#include <nlohmann/json.hpp>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"

namespace mpitune {
namespace {

using nlohmann::json;

constexpr const char* kField = "model.path";

[[noreturn]] void bad(const std::string& dir, const std::string& problem, const std::string& fix = "") {
  throw ConfigError(kField, dir + "/config.json: " + problem, fix);
}

// A number from the JSON, or `fallback` when the key is absent or null.
template <typename T>
T number(const json& j, const char* key, T fallback, const std::string& dir) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number()) bad(dir, std::string("'") + key + "' is not a number");
  return it->get<T>();
}

int64_t required(const json& j, const char* key, const std::string& dir) {
  const int64_t v = number<int64_t>(j, key, -1, dir);
  if (v <= 0) bad(dir, std::string("'") + key + "' is missing or not positive", "is this a complete model folder?");
  return v;
}

std::string text(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool flag(const json& j, const char* key, bool fallback) {
  const auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// bos/eos may be a number or a list of numbers (Llama-3.1 lists several EOS ids).
int64_t token_id(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return -1;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) return (*it)[0].get<int64_t>();
  return -1;
}

void read_gpt2(const json& j, HfModelConfig& c) {
  c.family = ArchFamily::Gpt2;
  c.vocab_size = required(j, "vocab_size", c.dir);
  c.hidden_size = required(j, "n_embd", c.dir);
  c.n_layer = required(j, "n_layer", c.dir);
  c.n_head = required(j, "n_head", c.dir);
  c.n_kv_head = c.n_head;
  c.max_positions = number<int64_t>(j, "n_positions", number<int64_t>(j, "n_ctx", 1024, c.dir), c.dir);
  c.intermediate_size = number<int64_t>(j, "n_inner", 4 * c.hidden_size, c.dir);
  c.norm_eps = number<double>(j, "layer_norm_epsilon", 1e-5, c.dir);
  c.tie_word_embeddings = flag(j, "tie_word_embeddings", true);
  const std::string act = text(j, "activation_function").empty() ? "gelu_new" : text(j, "activation_function");
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") c.gelu_tanh = true;
  else if (act == "gelu") c.gelu_tanh = false;
  else bad(c.dir, "activation_function '" + act + "' is not supported", "supported: gelu_new, gelu_pytorch_tanh, gelu");
  if (flag(j, "scale_attn_by_inverse_layer_idx", false))
    bad(c.dir, "scale_attn_by_inverse_layer_idx = true is not supported");
  if (!flag(j, "scale_attn_weights", true)) bad(c.dir, "scale_attn_weights = false is not supported");
  if (c.hidden_size % c.n_head != 0) bad(c.dir, "n_head does not divide n_embd");
  c.head_dim = c.hidden_size / c.n_head;
}

void read_llama(const json& j, HfModelConfig& c) {
  c.family = ArchFamily::Llama;
  c.vocab_size = required(j, "vocab_size", c.dir);
  c.hidden_size = required(j, "hidden_size", c.dir);
  c.n_layer = required(j, "num_hidden_layers", c.dir);
  c.n_head = required(j, "num_attention_heads", c.dir);
  c.n_kv_head = number<int64_t>(j, "num_key_value_heads", c.n_head, c.dir);
  c.head_dim = number<int64_t>(j, "head_dim", 0, c.dir);
  if (c.head_dim <= 0) {
    if (c.hidden_size % c.n_head != 0) bad(c.dir, "num_attention_heads does not divide hidden_size and head_dim is not given");
    c.head_dim = c.hidden_size / c.n_head;
  }
  if (c.n_kv_head <= 0 || c.n_head % c.n_kv_head != 0)
    bad(c.dir, "num_key_value_heads = " + std::to_string(c.n_kv_head) + " does not divide num_attention_heads = " +
                   std::to_string(c.n_head));
  c.intermediate_size = required(j, "intermediate_size", c.dir);
  c.max_positions = number<int64_t>(j, "max_position_embeddings", 2048, c.dir);
  c.norm_eps = number<double>(j, "rms_norm_eps", 1e-6, c.dir);
  c.rope_theta = number<double>(j, "rope_theta", 10000.0, c.dir);
  c.tie_word_embeddings = flag(j, "tie_word_embeddings", false);
  const std::string act = text(j, "hidden_act").empty() ? "silu" : text(j, "hidden_act");
  if (act != "silu") bad(c.dir, "hidden_act '" + act + "' is not supported", "the llama family here uses silu (SwiGLU)");
  if (c.model_type == "qwen2") {
    c.qkv_bias = true;  // Qwen2 always has q/k/v biases and none on o_proj
  } else {
    c.qkv_bias = c.o_bias = flag(j, "attention_bias", false);
    c.mlp_bias = flag(j, "mlp_bias", false);
  }
  const auto rs = j.find("rope_scaling");
  if (rs != j.end() && !rs->is_null())
    bad(c.dir, "rope_scaling is not supported yet (" + rs->dump() + ")",
        "use a model without rope_scaling (Llama-2/3, Mistral, Qwen2, SmolLM2, TinyLlama)");
  const auto sw = j.find("sliding_window");
  if (sw != j.end() && sw->is_number_integer() && flag(j, "use_sliding_window", true)) c.sliding_window = sw->get<int64_t>();
}

}  // namespace

const char* arch_family_name(ArchFamily f) { return f == ArchFamily::Gpt2 ? "gpt2" : "llama"; }

HfModelConfig HfModelConfig::parse(const std::string& json_text, const std::string& dir) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    bad(dir, std::string("is not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object()) bad(dir, "is not a JSON object");
  HfModelConfig c;
  c.dir = dir;
  c.json_text = json_text;
  c.model_type = text(j, "model_type");
  const auto archs = j.find("architectures");
  if (archs != j.end() && archs->is_array() && !archs->empty() && (*archs)[0].is_string())
    c.architecture = (*archs)[0].get<std::string>();
  c.torch_dtype = text(j, "torch_dtype");
  c.bos_token_id = token_id(j, "bos_token_id");
  c.eos_token_id = token_id(j, "eos_token_id");
  if (c.model_type == "gpt2") {
    read_gpt2(j, c);
  } else if (c.model_type == "llama" || c.model_type == "mistral" || c.model_type == "qwen2") {
    read_llama(j, c);
  } else {
    bad(dir, "model_type '" + c.model_type + "' is not supported",
        "supported: gpt2, llama, mistral, qwen2 (GPT2LMHeadModel, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)");
  }
  if (!c.architecture.empty() && c.architecture.find("CausalLM") == std::string::npos &&
      c.architecture.find("LMHeadModel") == std::string::npos && c.architecture != "GPT2Model" &&
      c.architecture != "LlamaModel")
    bad(dir, "architectures[0] = " + c.architecture + " is not a causal language model",
        "point model.path at a *ForCausalLM / GPT2LMHeadModel checkpoint");
  return c;
}

HfModelConfig HfModelConfig::load(const std::string& dir) {
  const std::string path = dir + "/config.json";
  std::string text;
  try {
    text = read_file_text(path);
  } catch (const FileError&) {  // the user's model.path
    throw ConfigError(kField, "cannot read " + path,
                      "point model.path at a Hugging Face model folder (config.json, model.safetensors, tokenizer files)");
  }
  return parse(text, dir);
}

}  // namespace mpitune
