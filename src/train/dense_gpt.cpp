// The dense GptModel: whole flat buffers on every rank (see dense_gpt.hpp).
#include "mpitune/train/dense_gpt.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/train/architecture.hpp"
#include "mpitune/train/frozen_key.hpp"
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
  DenseGpt(const ModelSpec& spec, const ModelInit& init, at::Device device, Precision precision,
           std::shared_ptr<Collectives> group)
      : spec_(spec), layout_(model_layout(spec)), arch_(Architecture::make(spec)), device_(device),
        precision_(precision), group_(std::move(group)) {
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device_);
    const at::ScalarType dtype = compute_scalar_type(precision_);
    bufs_.resize(layout_.size());
    // Only pretrained values are the same for every trial (scratch ones depend on the seed).
    FrozenCache* cache = init.weights ? init.frozen : nullptr;
    for (size_t b = 0; b < layout_.size(); ++b) {
      const UnitLayout& l = layout_[b];
      Buf& x = bufs_[b];
      auto first_values = [&] {
        at::Tensor v = at::empty({l.numel}, at::TensorOptions().dtype(at::kFloat));
        initial_values(spec_, layout_, b, init, 0, l.numel, v.data_ptr<float>());
        return v.to(device_);
      };
      if (!l.trainable) {
        x.compute = frozen_slice(cache, spec_, l, precision_, device_, 0, 1, first_values);
        continue;
      }
      x.master = first_values();
      x.grad = at::zeros({l.numel}, f32);
      x.exp_avg = at::zeros({l.numel}, f32);
      x.exp_avg_sq = at::zeros({l.numel}, f32);
      // fp32 computes on the master itself; lower precisions on a copy refreshed after updates.
      x.compute = precision_ == Precision::F32 ? x.master : x.master.to(dtype);
      x.compute.requires_grad_(true);
      trainable_.push_back(b);
    }
  }

  const ModelSpec& spec() const override { return spec_; }
  const std::vector<UnitLayout>& layout() const override { return layout_; }
  at::Device device() const override { return device_; }
  Precision precision() const override { return precision_; }
  int64_t optimizer_steps() const override { return steps_; }
  void set_lora(double alpha, double dropout) override {
    spec_.lora.alpha = alpha;
    spec_.lora.dropout = dropout;
    arch_ = Architecture::make(spec_);
  }

  at::Tensor forward_backward(const at::Tensor& tokens, const at::Tensor& targets, double loss_weight) override {
    const at::Tensor loss = arch_->loss_sum(table(0), hidden(tokens, /*training=*/true), targets);
    std::vector<at::Tensor> inputs;
    for (size_t b : trainable_) inputs.push_back(bufs_[b].compute);
    // grad() rather than backward(): the gradients of low-precision copies come back as
    // tensors, and are accumulated in fp32 here instead of in a bf16 .grad.
    const std::vector<at::Tensor> grads = torch::autograd::grad({loss * loss_weight}, inputs);
    c10::NoGradGuard no_grad;
    for (size_t i = 0; i < grads.size(); ++i) bufs_[trainable_[i]].grad.add_(grads[i]);
    return loss.detach();
  }

  at::Tensor forward_loss(const at::Tensor& tokens, const at::Tensor& targets) override {
    c10::NoGradGuard no_grad;
    return arch_->loss_sum(table(0), hidden(tokens, false), targets);
  }

  at::Tensor forward_logits(const at::Tensor& tokens) override {
    c10::NoGradGuard no_grad;
    return arch_->logits(table(0), hidden(tokens, false)).to(at::kFloat);
  }

  at::Tensor reduce_gradients() override {
    c10::NoGradGuard no_grad;
    at::Tensor total = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device_));
    for (size_t b : trainable_) {
      at::Tensor& g = bufs_[b].grad;
      if (group_ && group_->size() > 1)
        group_->all_reduce(g.data_ptr(), static_cast<size_t>(g.numel()), DType::F32, ReduceOp::Sum);
      total += sum_of_squares(g);
    }
    return total;
  }

  void apply_adamw(const AdamWOptions& o, double lr, const at::Tensor& grad_factor) override {
    c10::NoGradGuard no_grad;
    ++steps_;
    for (size_t b : trainable_) {
      Buf& x = bufs_[b];
      x.grad.mul_(grad_factor);
      adamw_update_slice(x.master, x.grad, x.exp_avg, x.exp_avg_sq, steps_, lr, o, /*begin=*/0, layout_[b].decay_numel);
      x.grad.zero_();
      if (precision_ != Precision::F32) x.compute.copy_(x.master);
    }
  }

  void zero_gradients() override {
    c10::NoGradGuard no_grad;
    for (size_t b : trainable_) bufs_[b].grad.zero_();
  }

  at::Tensor buffer_values(size_t b) override {
    MPITUNE_CHECK(b < bufs_.size(), "buffer index out of range");
    const Buf& x = bufs_[b];
    return (x.master.defined() ? x.master : x.compute).detach().to(at::kFloat).clone();
  }

  void export_state(ByteWriter& w) const override {
    w.tag("dense-gpt");
    w.i64(static_cast<int64_t>(trainable_.size()));
    w.i64(steps_);
    for (size_t b : trainable_) {
      w.i64(layout_[b].numel);
      write_tensor(w, bufs_[b].master);
      write_tensor(w, bufs_[b].exp_avg);
      write_tensor(w, bufs_[b].exp_avg_sq);
    }
  }

  void import_state(ByteReader& r) override {
    c10::NoGradGuard no_grad;
    r.expect_tag("dense-gpt");
    const int64_t n = r.i64();
    if (n != static_cast<int64_t>(trainable_.size()))
      r.fail(std::to_string(n) + " trainable buffers stored, the model has " + std::to_string(trainable_.size()));
    steps_ = r.i64();
    for (size_t b : trainable_) {
      const int64_t numel = r.i64();
      if (numel != layout_[b].numel)
        r.fail("buffer " + layout_[b].name + " has " + std::to_string(numel) + " parameters stored, " +
               std::to_string(layout_[b].numel) + " in the model");
      Buf& x = bufs_[b];
      read_tensor(r, x.master, layout_[b].name + " master");
      read_tensor(r, x.exp_avg, layout_[b].name + " exp_avg");
      read_tensor(r, x.exp_avg_sq, layout_[b].name + " exp_avg_sq");
      x.grad.zero_();
      if (precision_ != Precision::F32) x.compute.copy_(x.master);
    }
  }

 private:
  struct Buf {
    at::Tensor master, compute, grad, exp_avg, exp_avg_sq;  // master..v undefined when frozen
  };

  ParamTable table(size_t unit) const {
    ParamTable t;
    for (size_t b = 0; b < layout_.size(); ++b)
      if (layout_[b].unit == unit) t.add(layout_[b], bufs_[b].compute);
    return t;
  }

  // The activations after the last block.
  at::Tensor hidden(const at::Tensor& tokens, bool training) const {
    at::Tensor x = arch_->embed(table(0), tokens);
    for (size_t u = 1; u < unit_count(layout_); ++u) x = arch_->block(table(u), x, training);
    return x;
  }

  ModelSpec spec_;
  std::vector<UnitLayout> layout_;
  std::unique_ptr<Architecture> arch_;
  at::Device device_;
  Precision precision_;
  std::shared_ptr<Collectives> group_;
  std::vector<Buf> bufs_;
  std::vector<size_t> trainable_;  // indices of the trainable buffers
  int64_t steps_ = 0;
};

}  // namespace

std::unique_ptr<GptModel> make_dense_gpt(const ModelSpec& spec, const ModelInit& init, at::Device device,
                                         Precision precision, std::shared_ptr<Collectives> group) {
  return std::make_unique<DenseGpt>(spec, init, device, precision, std::move(group));
}

}  // namespace mpitune
