// Named views of flat parameter buffers and scratch initial values (see param_table.hpp).
#include "mpitune/train/param_table.hpp"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

constexpr double kInitStd = 0.02;  // GPT-2

}  // namespace

std::vector<at::Tensor> buffer_views(const at::Tensor& flat, const UnitLayout& buffer) {
  MPITUNE_CHECK(flat.dim() == 1 && flat.numel() >= buffer.numel, "buffer too small for " + buffer.name);
  std::vector<int64_t> sizes;
  sizes.reserve(buffer.params.size() + 1);
  for (const auto& p : buffer.params) sizes.push_back(p.numel);
  if (flat.numel() > buffer.numel) sizes.push_back(flat.numel() - buffer.numel);  // padding
  std::vector<at::Tensor> pieces = flat.split_with_sizes(sizes);
  std::vector<at::Tensor> views;
  views.reserve(buffer.params.size());
  for (size_t i = 0; i < buffer.params.size(); ++i) views.push_back(pieces[i].view(buffer.params[i].shape));
  return views;
}

void ParamTable::add(const UnitLayout& buffer, const at::Tensor& flat) {
  std::vector<at::Tensor> views = buffer_views(flat, buffer);
  for (size_t i = 0; i < views.size(); ++i) entries_.emplace_back(buffer.params[i].name, std::move(views[i]));
}

const at::Tensor* ParamTable::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.first == name) return &e.second;
  return nullptr;
}

const at::Tensor& ParamTable::operator[](const std::string& name) const {
  const at::Tensor* t = find(name);
  MPITUNE_CHECK(t != nullptr, "the model has no parameter '" + name + "'");
  return *t;
}

at::Tensor init_buffer(const UnitLayout& buffer, int64_t n_layer, uint64_t seed) {
  at::Tensor flat = at::empty({buffer.numel}, at::TensorOptions().dtype(at::kFloat));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const double residual_std = kInitStd / std::sqrt(2.0 * static_cast<double>(n_layer));
  for (const auto& p : buffer.params) {
    at::Tensor t = flat.narrow(0, p.offset, p.numel);
    switch (p.init) {
      case InitKind::Normal: t.normal_(0.0, kInitStd, gen); break;
      case InitKind::ResidualNormal: t.normal_(0.0, residual_std, gen); break;
      case InitKind::Zeros: t.zero_(); break;
      case InitKind::Ones: t.fill_(1.0); break;
      case InitKind::LoraA: {
        const double bound = 1.0 / std::sqrt(static_cast<double>(p.shape.at(1)));
        t.uniform_(-bound, bound, gen);
        break;
      }
    }
  }
  // Token tables: the rows past the vocabulary are never inputs nor classes; keep them zero so
  // they stay out of the weight norm and of an exported file.
  for (const auto& p : buffer.params)
    if (p.file_numel < p.numel) flat.narrow(0, p.offset + p.file_numel, p.numel - p.file_numel).zero_();
  return flat;
}

}  // namespace mpitune
