// The parameter layout of a model: its flat buffers, grouped into gathering units, with each
// parameter's Hugging Face name, shape and place. Pure arithmetic, no torch.
//
// A *buffer* (UnitLayout) is one flat parameter vector that ZeRO-3 shards as a whole (padded to
// a multiple of G, rank r owns slice r). A *unit* is what is gathered together for a forward:
// unit 0 is the root (embeddings, final norm, the head), unit 1 + i is block i. Without LoRA
// each unit is one trainable buffer. With LoRA a block has two buffers: its frozen base weights
// and its trainable adapters (unit 1 + i both); the root is frozen.
//
// Parameters are stored exactly as in a Hugging Face file (GPT-2's Conv1D weights [in, out],
// Llama's linears [out, in]), so a rank's slice of a buffer maps to contiguous element ranges of
// the file's tensors: loading reads only those ranges, export writes them back. Token tables
// have table_rows() rows (vocab padded to 64); the file's tensor has the first `vocab` rows.
// Inside a buffer the parameters that take weight decay (matrices and embeddings) come first,
// so the decayed elements of any buffer or slice form one prefix range.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/train/model_spec.hpp"

namespace mpitune {

enum class InitKind {
  Normal,          // N(0, 0.02)
  ResidualNormal,  // N(0, 0.02 / sqrt(2 n_layer)): projections that write into the residual
  Zeros,
  Ones,
  LoraA,           // U(-1/sqrt(in), 1/sqrt(in)): PEFT's kaiming_uniform(a = sqrt(5)) of lora_A
};

struct ParamSpec {
  std::string name;                 // inside its unit: "attn.c_attn.weight", "self_attn.q_proj.lora_A.weight"
  std::vector<int64_t> shape;       // as stored (a token table: table_rows() rows)
  std::vector<int64_t> file_shape;  // as in a Hugging Face file (a token table: vocab rows)
  int64_t offset = 0;               // into the buffer
  int64_t numel = 0;
  int64_t file_numel = 0;           // elements [offset, offset + file_numel) come from / go to the file
  InitKind init = InitKind::Normal;
  bool decay = false;
};

struct UnitLayout {
  std::string name;        // "root", "h.0", "h.0.lora"
  size_t unit = 0;         // 0 = root, 1 + i = block i
  bool trainable = true;
  bool adapters = false;   // a LoRA adapter buffer
  std::string prefix;      // Hugging Face name prefix of its parameters: "", "h.3.", "model.layers.3."
  std::vector<ParamSpec> params;  // decayed parameters first
  int64_t numel = 0;        // elements of all parameters (before any ZeRO-3 padding)
  int64_t decay_numel = 0;  // elements [0, decay_numel) take weight decay

  const ParamSpec* find(const std::string& param) const;
};

// Every buffer of the model, in unit order (the root first; a block's base before its adapters).
std::vector<UnitLayout> model_layout(const ModelSpec& spec);
size_t unit_count(const std::vector<UnitLayout>& layout);

struct ParameterCounts {
  int64_t total = 0;      // parameters of the model as a Hugging Face file holds them (no padding)
  int64_t trainable = 0;  // of which the optimizer updates (all, or the adapters with LoRA)
};
ParameterCounts count_parameters(const std::vector<UnitLayout>& layout);

}  // namespace mpitune
