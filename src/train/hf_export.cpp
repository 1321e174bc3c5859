// Hugging Face model folders and PEFT adapter folders written from a model's buffers, and PEFT
// adapter configs read back (see hf_export.hpp). Files are written atomically (core/file_io.hpp);
// no std::filesystem (a CUDA build's pip libtorch exports its own copy, see core/file_io.hpp).
#include "mpitune/train/hf_export.hpp"

#include <ATen/ATen.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "mpitune/core/error.hpp"
#include "mpitune/train/hf_names.hpp"
#include "mpitune/train/state_io.hpp"

namespace mpitune {
namespace {

using nlohmann::json;

at::ScalarType scalar_type(TensorDType t) {
  switch (t) {
    case TensorDType::F32: return at::kFloat;
    case TensorDType::BF16: return at::kBFloat16;
    case TensorDType::F16: return at::kHalf;
    default: throw InfraError(std::string("cannot export weights as ") + dtype_name(t));
  }
}

const char* torch_dtype_name(TensorDType t) {
  return t == TensorDType::BF16 ? "bfloat16" : t == TensorDType::F16 ? "float16" : "float32";
}

// Adds every parameter of the chosen buffers to `w`: its file elements (a token table without
// its padding rows) converted to `dtype` the way torch converts (round to nearest even).
void add_params(SafetensorsWriter& w, const std::vector<UnitLayout>& layout, const std::vector<at::Tensor>& buffers,
                bool adapters, TensorDType dtype, const std::function<std::string(const UnitLayout&, const ParamSpec&)>& name,
                ExportedFolder& out) {
  for (size_t b = 0; b < layout.size(); ++b) {
    if (layout[b].adapters != adapters) continue;
    MPITUNE_CHECK(b < buffers.size() && buffers[b].defined() && buffers[b].numel() >= layout[b].numel,
                  "no values for buffer " + layout[b].name);
    const at::Tensor flat = buffers[b].to(at::kCPU).to(at::kFloat).contiguous();
    for (const auto& p : layout[b].params) {
      const at::Tensor values = flat.narrow(0, p.offset, p.file_numel);
      w.add(name(layout[b], p), dtype, p.file_shape, [values, dtype](void* dst) {
        const at::Tensor v = values.to(scalar_type(dtype)).contiguous();
        std::memcpy(dst, v.data_ptr(), v.nbytes());
      });
      ++out.tensors;
    }
  }
  out.bytes = w.total_bytes();
}

void write_text(const std::string& path, const std::string& text, ExportedFolder& out) {
  write_file_atomic(path, text.data(), text.size());
  out.files.push_back(path);
}

std::string basename_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// config.json of a scratch model, with the keys transformers' config classes read.
json scratch_config(const ModelSpec& s, int64_t bos, int64_t eos) {
  json j;
  if (s.family == ArchFamily::Gpt2) {
    j["model_type"] = "gpt2";
    j["architectures"] = {"GPT2LMHeadModel"};
    j["n_embd"] = s.d_model;
    j["n_layer"] = s.n_layer;
    j["n_head"] = s.n_head;
    j["n_inner"] = s.d_ff;
    j["n_positions"] = s.max_positions;
    j["n_ctx"] = s.max_positions;
    j["layer_norm_epsilon"] = s.norm_eps;
    j["activation_function"] = s.gelu_tanh ? "gelu_new" : "gelu";
  } else {
    j["model_type"] = "llama";
    j["architectures"] = {"LlamaForCausalLM"};
    j["hidden_size"] = s.d_model;
    j["intermediate_size"] = s.d_ff;
    j["num_hidden_layers"] = s.n_layer;
    j["num_attention_heads"] = s.n_head;
    j["num_key_value_heads"] = s.n_kv_head;
    j["head_dim"] = s.head_dim;
    j["max_position_embeddings"] = s.seq_len;
    j["rms_norm_eps"] = s.norm_eps;
    j["rope_theta"] = s.rope_theta;
    j["hidden_act"] = "silu";
    j["attention_bias"] = s.qkv_bias;
    j["mlp_bias"] = s.mlp_bias;
  }
  j["vocab_size"] = s.vocab;
  j["tie_word_embeddings"] = s.tied;
  // null, not absent, when the tokenizer has none: transformers' config classes would otherwise
  // fill in their own defaults (Llama's bos 1 / eos 2, GPT-2's 50256), ids of some other token.
  j["bos_token_id"] = bos >= 0 ? json(bos) : json(nullptr);
  j["eos_token_id"] = eos >= 0 ? json(eos) : json(nullptr);
  return j;
}

}  // namespace

ExportedFolder export_hf_model(const ModelSpec& spec, const std::vector<UnitLayout>& layout,
                               const std::vector<at::Tensor>& buffers, TensorDType dtype,
                               const std::string& base_config_json, const std::vector<std::string>& copy_from,
                               int64_t bos_id, int64_t eos_id, const std::string& out) {
  MPITUNE_CHECK(spec.lora.rank == 0, "a LoRA model exports as an adapter (export_peft_adapter)");
  make_dirs(out);
  ExportedFolder result;
  result.dir = out;
  json config = base_config_json.empty() ? scratch_config(spec, bos_id, eos_id) : json::parse(base_config_json);
  config["torch_dtype"] = torch_dtype_name(dtype);
  // GPT-2 as GPT2LMHeadModel.save_pretrained names it.
  const std::string prefix = spec.family == ArchFamily::Gpt2 ? "transformer." : "";
  SafetensorsWriter w;
  add_params(w, layout, buffers, /*adapters=*/false, dtype,
             [&](const UnitLayout& b, const ParamSpec& p) { return hf_param_name(b, p, prefix); }, result);
  for (const auto& f : w.write_folder(out, "model")) result.files.push_back(f);
  write_text(out + "/config.json", config.dump(2) + "\n", result);
  for (const auto& src : copy_from) {
    if (!file_exists(src)) continue;
    const std::vector<uint8_t> bytes = read_file_bytes(src);
    const std::string dst = out + "/" + basename_of(src);
    write_file_atomic(dst, bytes.data(), bytes.size());
    result.files.push_back(dst);
  }
  return result;
}

ExportedFolder export_peft_adapter(const ModelSpec& spec, const std::vector<UnitLayout>& layout,
                                   const std::vector<at::Tensor>& buffers, const std::string& base_model_path,
                                   const std::string& out) {
  MPITUNE_CHECK(spec.lora.rank > 0, "only a LoRA model has an adapter to export");
  make_dirs(out);
  ExportedFolder result;
  result.dir = out;
  SafetensorsWriter w;
  add_params(w, layout, buffers, /*adapters=*/true, TensorDType::F32,
             [&](const UnitLayout& b, const ParamSpec& p) { return peft_param_name(spec, b, p); }, result);
  w.write_file(out + "/adapter_model.safetensors");
  result.files.push_back(out + "/adapter_model.safetensors");
  json c;
  c["peft_type"] = "LORA";
  c["task_type"] = "CAUSAL_LM";
  c["base_model_name_or_path"] = base_model_path;
  c["r"] = spec.lora.rank;
  c["lora_alpha"] = spec.lora.alpha;
  c["lora_dropout"] = spec.lora.dropout;
  // The modules' last names, as PEFT matches them (GPT-2's two c_proj are named by path).
  json targets = json::array();
  for (const auto& site : spec.linears())
    for (const auto& m : spec.lora.modules)
      if (m == site.module) targets.push_back(site.short_name);
  c["target_modules"] = targets;
  c["bias"] = "none";
  c["fan_in_fan_out"] = spec.family == ArchFamily::Gpt2;  // GPT-2's Conv1D stores weights [in, out]
  c["inference_mode"] = true;
  c["init_lora_weights"] = true;
  c["modules_to_save"] = nullptr;
  c["use_rslora"] = false;
  c["use_dora"] = false;
  write_text(out + "/adapter_config.json", c.dump(2) + "\n", result);
  return result;
}

PeftAdapterConfig read_peft_adapter_config(const std::string& dir) {
  const std::string path = dir + "/adapter_config.json";
  if (!file_exists(path))
    throw ConfigError("--adapter", "no adapter_config.json in " + dir, "give a folder written by PEFT or mpitune export");
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  json j;
  try {
    j = json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    throw ConfigError("--adapter", path + " is not valid JSON (" + e.what() + ")");
  }
  auto bad = [&](const std::string& what) { return ConfigError("--adapter", path + ": " + what); };
  if (j.value("peft_type", "") != "LORA") throw bad("peft_type is not LORA");
  if (j.value("use_rslora", false) || j.value("use_dora", false)) throw bad("rsLoRA and DoRA are not supported");
  if (j.value("bias", "none") != "none") throw bad("adapter biases are not supported");
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null() && !j["modules_to_save"].empty())
    throw bad("modules_to_save is not supported");
  PeftAdapterConfig c;
  c.dir = dir;
  c.base_model = j.value("base_model_name_or_path", "");
  c.rank = j.value("r", 0);
  c.alpha = j.value("lora_alpha", 8.0);
  c.dropout = j.value("lora_dropout", 0.0);
  const auto targets = j.find("target_modules");
  if (targets == j.end()) throw bad("target_modules is missing");
  if (targets->is_string()) throw bad("a target_modules regular expression is not supported; list the modules");
  for (const auto& t : *targets) c.target_modules.push_back(t.get<std::string>());
  if (c.rank <= 0) throw bad("r is not positive");
  return c;
}

}  // namespace mpitune
