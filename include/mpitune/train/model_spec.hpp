// ModelSpec: everything that fixes a trial's model — architecture, shape, where its first
// weights come from, and its LoRA adapters — as plain numbers. No torch here, so rank 0 can
// count a trial's parameters and the checkpoint code can compare shapes without a model.
//
// Two families (hf_config.hpp): gpt2 (learned positions, LayerNorm, GELU, fused qkv, weights
// stored [in, out] as GPT-2's Conv1D) and llama (llama, mistral, qwen2: RMSNorm, RoPE, SwiGLU,
// grouped-query attention). A scratch model takes its shape from [model]; a pretrained one from
// the folder's config.json ([model] seq_len is the training context in both cases).
//
// LoRA (rank > 0): the base model is frozen; adapters A [rank, in] and B [out, rank] sit on the
// target linears (scale alpha / rank, dropout on the adapter input). Targets are the module
// names of the family: gpt2 attention = c_attn, attn.c_proj; mlp = c_fc, mlp.c_proj; llama
// attention = q_proj, k_proj, v_proj, o_proj; mlp = gate_proj, up_proj, down_proj; all-linear =
// both (never the head, as PEFT's all-linear).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"
#include "mpitune/hf/hf_config.hpp"

namespace mpitune {

// One linear layer of a block that LoRA can target: its name inside the block (PEFT's module
// name relative to the layer, e.g. "self_attn.q_proj" or "attn.c_attn") and its sizes.
struct LinearSite {
  std::string module;    // "self_attn.q_proj", "attn.c_attn", ...
  std::string short_name;  // what users write in lora.targets: "q_proj", "c_attn", "attn.c_proj"
  int64_t in = 0;
  int64_t out = 0;
  bool attention = false;  // attention (true) or MLP (false)
};

struct LoraSpec {
  int64_t rank = 0;  // 0: no adapters (full fine-tuning)
  double alpha = 16;
  double dropout = 0;
  std::vector<std::string> modules;  // targeted LinearSite::module names, in block order
  double scale() const { return rank > 0 ? alpha / static_cast<double>(rank) : 0.0; }
};

struct ModelSpec {
  ArchFamily family = ArchFamily::Gpt2;
  int64_t n_layer = 2;
  int64_t n_head = 4;
  int64_t n_kv_head = 4;
  int64_t head_dim = 16;
  int64_t d_model = 64;
  int64_t d_ff = 256;
  int64_t vocab = 256;          // classes of the head (the tokenizer's / config.json's vocabulary)
  int64_t max_positions = 64;   // gpt2: rows of the position table
  int64_t seq_len = 64;         // the training context
  double norm_eps = 1e-5;
  double rope_theta = 10000;
  bool tied = true;             // head = token embedding
  bool qkv_bias = true;         // gpt2: all linears have biases
  bool o_bias = true;
  bool mlp_bias = true;
  bool gelu_tanh = true;
  bool pretrained = false;
  std::string path;             // pretrained: the Hugging Face folder
  LoraSpec lora;

  // The spec of a trial's config (with its hyperparameters applied): [model] for scratch,
  // config.json for pretrained (`hf` must be the folder's config then), [lora] for adapters.
  // `tokenizer_vocab` is the tokenizer's size (scratch: the default vocab and a lower bound).
  // Throws ConfigError naming the key: lora targets that match no linear of the family,
  // seq_len past a gpt2 position table, a vocab_size below the tokenizer's.
  static ModelSpec from_config(const ExperimentConfig& c, const HfModelConfig* hf, int64_t tokenizer_vocab);

  // Rows of token tables (embedding, untied head): vocab rounded up to a multiple of 64, so the
  // head's GEMMs have aligned leading dimensions (GPT-2's 50257 -> 50304, as nanoGPT pads). The
  // extra rows are zero, never inputs, and the loss is over the first `vocab` logits only.
  int64_t table_rows() const { return (vocab + 63) / 64 * 64; }
  // The linears of one block, in forward order.
  std::vector<LinearSite> linears() const;
  // One line that identifies the parameter shapes (checkpoints compare it): family, shape,
  // vocab, tie, biases, LoRA rank and targets. Not the source path.
  std::string shape_text() const;
};

// lora.targets resolved for a family: "attention", "mlp", "all-linear" or a comma-separated list
// of module names (short names, e.g. q_proj, or full, e.g. self_attn.q_proj). ConfigError
// ("lora.targets") naming the unknown name and the family's names.
std::vector<std::string> resolve_lora_targets(const std::string& targets, const std::vector<LinearSite>& sites,
                                              ArchFamily family);

}  // namespace mpitune
