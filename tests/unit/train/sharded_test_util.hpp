// Helpers of the ZeRO-3 tests: a tiny model spec (GPT-2 or Llama family), seeded global batches,
// and a training loop at the model level (each rank takes its rows of the same global batch, as
// the trainable does).
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/loss_scaler.hpp"
#include "mpitune/train/update_step.hpp"

namespace mpitune::testing {

// 2 blocks, d_model 32, 2 heads, context 16, vocab 256. Llama: 4 heads sharing 2 key/value
// heads (grouped-query attention), rope_theta 500000, an untied head.
inline ModelSpec tiny_spec(ArchFamily family = ArchFamily::Gpt2) {
  ModelSpec s;
  s.family = family;
  s.n_layer = 2;
  s.n_head = family == ArchFamily::Gpt2 ? 2 : 4;
  s.n_kv_head = family == ArchFamily::Gpt2 ? 2 : 2;
  s.d_model = 32;
  s.head_dim = s.d_model / s.n_head;
  s.d_ff = family == ArchFamily::Gpt2 ? 128 : 96;
  s.vocab = 256;
  s.seq_len = 16;
  s.max_positions = 16;
  s.norm_eps = 1e-5;
  if (family == ArchFamily::Llama) {
    s.rope_theta = 500000;
    s.tied = false;
    s.qkv_bias = s.o_bias = s.mlp_bias = false;
  }
  return s;
}

// LoRA of rank 4 (alpha 8) on every linear of a spec.
inline ModelSpec with_lora(ModelSpec s, int64_t rank = 4) {
  s.lora.rank = rank;
  s.lora.alpha = 8;
  for (const auto& site : s.linears()) s.lora.modules.push_back(site.module);
  return s;
}

inline ModelInit seed_init(uint64_t seed) {
  ModelInit i;
  i.seed = seed;
  return i;
}

// (inputs, targets) of global batch `index`: rows x seq random tokens, the same on every rank.
inline std::pair<at::Tensor, at::Tensor> global_batch(int64_t rows, int64_t seq, uint64_t index) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1000 + index);
  const at::Tensor w = at::randint(256, {rows, seq + 1}, gen, at::TensorOptions().dtype(at::kLong));
  return {w.narrow(1, 0, seq), w.narrow(1, 1, seq)};
}

struct ModelRun {
  std::vector<double> losses;       // mean over the global batch, per step
  std::vector<bool> skipped;
  std::vector<double> scales;
  std::vector<at::Tensor> masters;  // every buffer's full fp32 values after the run
};

// `steps` steps from global batch `first` on; `group` null for the dense reference on one rank.
inline ModelRun train_model(GptModel& m, Collectives* group, int steps, int64_t rows, int accumulation,
                            DynamicLossScaler* scaler = nullptr, uint64_t first = 0) {
  const int g = group ? group->size() : 1, r = group ? group->rank() : 0;
  const int64_t micro = rows / (accumulation * g);
  const RowRange mine = rank_rows(rows, r, g);
  ModelRun out;
  for (int s = 0; s < steps; ++s) {
    const int64_t seq = m.spec().seq_len;
    const auto [x, y] = global_batch(rows, seq, first + static_cast<uint64_t>(s));
    const double scale = scaler ? scaler->scale() : 1.0;
    // The model returns loss sums: weigh them by the global batch's targets (the global mean).
    const double targets = static_cast<double>(rows * seq);
    double loss = 0;
    for (int a = 0; a < accumulation; ++a) {
      const int64_t begin = mine.begin + a * micro;
      loss += m.forward_backward(x.narrow(0, begin, micro), y.narrow(0, begin, micro), scale / targets)
                  .item<double>();
    }
    const UpdateOutcome u = update_parameters(m, scaler, AdamWOptions{}, 1e-2, 1.0);
    if (group) group->all_reduce(&loss, 1, DType::F64, ReduceOp::Sum);
    out.losses.push_back(loss / targets);
    out.skipped.push_back(u.skipped);
    out.scales.push_back(u.loss_scale);
  }
  for (size_t b = 0; b < m.layout().size(); ++b) out.masters.push_back(m.buffer_values(b));
  return out;
}

inline double max_rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(1e-12, std::fabs(b[i])));
  return a.size() == b.size() ? worst : INFINITY;
}

inline double max_abs_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double worst = a.size() == b.size() ? 0 : INFINITY;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, (a[i].to(at::kCPU) - b[i].to(at::kCPU)).abs().max().item<double>());
  return worst;
}

// ||a - b|| / ||b - start|| over all units: how far apart two runs ended, relative to how far
// the reference moved from its start.
inline double relative_param_diff(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b,
                                  const std::vector<at::Tensor>& start) {
  double diff = 0, moved = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    diff += (a[i].to(at::kCPU) - b[i].to(at::kCPU)).pow(2).sum().item<double>();
    moved += (b[i].to(at::kCPU) - start[i].to(at::kCPU)).pow(2).sum().item<double>();
  }
  return std::sqrt(diff / moved);
}

}  // namespace mpitune::testing
