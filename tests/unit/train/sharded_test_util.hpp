// Helpers of the ZeRO-3 tests: a tiny GPT shape, seeded global batches, and a training loop at
// the model level (each rank takes its rows of the same global batch, as the trainable does).
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/train/data.hpp"
#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/loss_scaler.hpp"
#include "mpitune/train/update_step.hpp"

namespace mpitune::testing {

inline GptShape tiny_shape() {
  GptShape s;
  s.n_layer = 2;
  s.n_head = 2;
  s.d_model = 32;
  s.seq_len = 16;
  return s;
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
  std::vector<at::Tensor> masters;  // every unit's full fp32 values after the run
};

// `steps` steps from global batch `first` on; `group` null for the dense reference on one rank.
inline ModelRun train_model(GptModel& m, Collectives* group, int steps, int64_t rows, int accumulation,
                            DynamicLossScaler* scaler = nullptr, uint64_t first = 0) {
  const int g = group ? group->size() : 1, r = group ? group->rank() : 0;
  const int64_t micro = rows / (accumulation * g);
  const RowRange mine = rank_rows(rows, r, g);
  ModelRun out;
  for (int s = 0; s < steps; ++s) {
    const auto [x, y] = global_batch(rows, m.shape().seq_len, first + static_cast<uint64_t>(s));
    const double scale = scaler ? scaler->scale() : 1.0;
    double loss = 0;
    for (int a = 0; a < accumulation; ++a) {
      const int64_t begin = mine.begin + a * micro;
      loss += m.forward_backward(x.narrow(0, begin, micro), y.narrow(0, begin, micro),
                                 scale / (accumulation * g))
                  .item<double>();
    }
    const UpdateOutcome u = update_parameters(m, scaler, AdamWOptions{}, 1e-2, 1.0);
    loss /= accumulation;
    if (group) group->all_reduce(&loss, 1, DType::F64, ReduceOp::Sum);
    out.losses.push_back(loss / g);
    out.skipped.push_back(u.skipped);
    out.scales.push_back(u.loss_scale);
  }
  for (size_t u = 0; u < m.layout().size(); ++u) out.masters.push_back(m.master_unit(u));
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
