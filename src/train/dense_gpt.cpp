// The dense GptModel: whole fp32 unit buffers on every rank (see dense_gpt.hpp).
#include "mpitune/train/dense_gpt.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/train/state_io.hpp"
#include "mpitune/train/tensor_bytes.hpp"

namespace mpitune {

at::ScalarType compute_scalar_type(Precision p) {
  switch (p) {
    case Precision::F32: return at::kFloat;
    case Precision::BF16: return at::kBFloat16;
    case Precision::F16: return at::kHalf;
  }
  return at::kFloat;
}

namespace {

class DenseGpt final : public GptModel {
 public:
  DenseGpt(const GptShape& shape, uint64_t seed, at::Device device, Precision precision,
           std::shared_ptr<Collectives> group)
      : shape_(shape), layout_(gpt_layout(shape)), device_(device), precision_(precision),
        group_(std::move(group)) {
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device_);
    for (size_t u = 0; u < layout_.size(); ++u) {
      at::Tensor master = init_unit(layout_[u], shape_.n_layer, derive_seed(seed, "init", u)).to(device_);
      grad_.push_back(at::zeros({layout_[u].numel}, f32));
      exp_avg_.push_back(at::zeros({layout_[u].numel}, f32));
      exp_avg_sq_.push_back(at::zeros({layout_[u].numel}, f32));
      // fp32 computes on the master itself; lower precisions on a copy refreshed after updates.
      at::Tensor compute = precision_ == Precision::F32 ? master : master.to(compute_scalar_type(precision_));
      compute.requires_grad_(true);
      master_.push_back(master);
      compute_.push_back(compute);
    }
  }

  const GptShape& shape() const override { return shape_; }
  const std::vector<UnitLayout>& layout() const override { return layout_; }
  at::Device device() const override { return device_; }
  Precision precision() const override { return precision_; }
  int64_t optimizer_steps() const override { return steps_; }

  at::Tensor forward_backward(const at::Tensor& tokens, const at::Tensor& targets,
                              double loss_weight) override {
    const at::Tensor loss = build_loss(tokens, targets);
    // grad() rather than backward(): the gradients of low-precision copies come back as
    // tensors, and are accumulated in fp32 here instead of in a bf16 .grad.
    const std::vector<at::Tensor> grads = torch::autograd::grad({loss * loss_weight}, compute_);
    c10::NoGradGuard no_grad;
    for (size_t u = 0; u < grads.size(); ++u) grad_[u].add_(grads[u]);
    return loss.detach();
  }

  at::Tensor forward_loss(const at::Tensor& tokens, const at::Tensor& targets) override {
    c10::NoGradGuard no_grad;
    return build_loss(tokens, targets);
  }

  at::Tensor reduce_gradients() override {
    c10::NoGradGuard no_grad;
    if (group_ && group_->size() > 1)
      for (auto& g : grad_) group_->all_reduce(g.data_ptr(), static_cast<size_t>(g.numel()), DType::F32, ReduceOp::Sum);
    at::Tensor total = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device_));
    for (const auto& g : grad_) total += sum_of_squares(g);
    return total;
  }

  void apply_adamw(const AdamWOptions& o, double lr, const at::Tensor& grad_factor) override {
    c10::NoGradGuard no_grad;
    ++steps_;
    for (size_t u = 0; u < layout_.size(); ++u) {
      grad_[u].mul_(grad_factor);
      adamw_update_slice(master_[u], grad_[u], exp_avg_[u], exp_avg_sq_[u], steps_, lr, o,
                         /*begin=*/0, layout_[u].decay_numel);
      grad_[u].zero_();
      if (precision_ != Precision::F32) compute_[u].copy_(master_[u]);
    }
  }

  void zero_gradients() override {
    c10::NoGradGuard no_grad;
    for (auto& g : grad_) g.zero_();
  }

  at::Tensor master_unit(size_t u) override {
    MPITUNE_CHECK(u < master_.size(), "unit index out of range");
    return master_[u].detach().clone();
  }

  void export_state(ByteWriter& w) const override {
    w.tag("dense-gpt");
    w.i64(static_cast<int64_t>(master_.size()));
    w.i64(steps_);
    for (size_t u = 0; u < master_.size(); ++u) {
      write_tensor(w, master_[u]);
      write_tensor(w, exp_avg_[u]);
      write_tensor(w, exp_avg_sq_[u]);
    }
  }

  void import_state(ByteReader& r) override {
    c10::NoGradGuard no_grad;
    r.expect_tag("dense-gpt");
    const int64_t n = r.i64();
    if (n != static_cast<int64_t>(master_.size()))
      r.fail(std::to_string(n) + " units stored, the model has " + std::to_string(master_.size()));
    steps_ = r.i64();
    for (size_t u = 0; u < master_.size(); ++u) {
      read_tensor(r, master_[u], layout_[u].name + " master");
      read_tensor(r, exp_avg_[u], layout_[u].name + " exp_avg");
      read_tensor(r, exp_avg_sq_[u], layout_[u].name + " exp_avg_sq");
      grad_[u].zero_();
      if (precision_ != Precision::F32) compute_[u].copy_(master_[u]);
    }
  }

 private:
  at::Tensor build_loss(const at::Tensor& tokens, const at::Tensor& targets) const {
    const RootParams root = RootParams::from(unit_views(compute_[0], layout_[0]), shape_.vocab);
    std::vector<BlockParams> blocks;
    blocks.reserve(layout_.size() - 1);
    for (size_t u = 1; u < layout_.size(); ++u)
      blocks.push_back(BlockParams::from(unit_views(compute_[u], layout_[u])));
    return gpt_loss(root, blocks, shape_.n_head, tokens, targets);
  }

  GptShape shape_;
  std::vector<UnitLayout> layout_;
  at::Device device_;
  Precision precision_;
  std::shared_ptr<Collectives> group_;
  std::vector<at::Tensor> master_, compute_, grad_, exp_avg_, exp_avg_sq_;
  int64_t steps_ = 0;
};

}  // namespace

std::unique_ptr<GptModel> make_dense_gpt(const GptShape& shape, uint64_t seed, at::Device device,
                                         Precision precision, std::shared_ptr<Collectives> group) {
  return std::make_unique<DenseGpt>(shape, seed, device, precision, std::move(group));
}

}  // namespace mpitune
