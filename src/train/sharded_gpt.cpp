// The ZeRO-3 sharded GPT: gathers, releases, refills and reduce-scatters around a per-unit
// explicit backward (see sharded_gpt.hpp for the order of events and why).
#include "mpitune/train/sharded_gpt.hpp"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>

#ifdef MPITUNE_CUDA
#include <c10/core/DeviceGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/train/state_io.hpp"
#include "mpitune/train/tensor_bytes.hpp"
#include "mpitune/train/unit_storage.hpp"

namespace mpitune {
namespace {

DType comm_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return DType::F32;
    case at::kBFloat16: return DType::BF16;
    case at::kHalf: return DType::F16;
    default: throw InfraError("no collective dtype for this tensor type");
  }
}

// What one forward pass leaves for its backward.
struct ForwardPass {
  at::Tensor loss;
  at::Tensor embedded;                 // output of the embedding (root unit)
  std::vector<at::Tensor> block_in;    // detached inputs of the blocks, requiring grad
  std::vector<at::Tensor> block_out;   // outputs of the blocks
  at::Tensor head_in;                  // detached input of the final LN + head
};

class ShardedGptImpl final : public ShardedGpt {
 public:
  ShardedGptImpl(const GptShape& shape, uint64_t seed, at::Device device, Precision precision,
                 std::shared_ptr<Collectives> group)
      : shape_(shape), layout_(gpt_layout(shape)), device_(device), precision_(precision),
        dtype_(compute_scalar_type(precision)), group_(std::move(group)) {
    MPITUNE_CHECK(group_ != nullptr, "the sharded model needs a group");
    const int g = group_->size(), rank = group_->rank();
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device_);
    units_.resize(layout_.size());
    for (size_t u = 0; u < layout_.size(); ++u) {
      const ShardLayout shard = ShardLayout::make(layout_[u].numel, g);
      shards_.push_back(shard);
      // Every rank draws the whole unit from the same seed and keeps its slice: the values do
      // not depend on G, so any G starts where the dense model starts.
      at::Tensor full = init_unit(layout_[u], shape_.n_layer, derive_seed(seed, "init", u));
      if (shard.padded > shard.numel) full = at::cat({full, at::zeros({shard.padded - shard.numel})});
      Unit& x = units_[u];
      x.master = full.narrow(0, shard.begin(rank), shard.slice).clone().to(device_);
      x.exp_avg = at::zeros({shard.slice}, f32);
      x.exp_avg_sq = at::zeros({shard.slice}, f32);
      x.grad = at::zeros({shard.slice}, f32);
      if (precision_ != Precision::F32) x.lowp = x.master.to(dtype_);
    }
    after_forward_.assign(layout_.size(), 0);
  }

  ~ShardedGptImpl() override {
    // Collectives still in flight read or write our buffers: complete them first.
    try {
      for (auto& x : units_)
        if (x.gathering) x.gathering->wait();
      finish_gradients();
    } catch (...) {
    }
  }

  const GptShape& shape() const override { return shape_; }
  const std::vector<UnitLayout>& layout() const override { return layout_; }
  at::Device device() const override { return device_; }
  Precision precision() const override { return precision_; }
  int64_t optimizer_steps() const override { return steps_; }
  const std::vector<ShardLayout>& shards() const override { return shards_; }
  std::vector<int64_t> gathered_bytes_after_forward() const override { return after_forward_; }
  at::Tensor gradient_slice(size_t u) override { return units_.at(u).grad; }

  ShardedMemory memory() const override {
    ShardedMemory m;
    for (const auto& x : units_) {
      for (const at::Tensor* t : {&x.master, &x.exp_avg, &x.exp_avg_sq, &x.grad, &x.lowp})
        if (t->defined()) m.persistent_bytes += static_cast<int64_t>(storage_bytes(*t));
      if (x.gathered.defined()) m.gathered_bytes += static_cast<int64_t>(storage_bytes(x.gathered));
    }
    return m;
  }

  at::Tensor forward_backward(const at::Tensor& tokens, const at::Tensor& targets,
                              double loss_weight) override {
    bind_stream();
    ForwardPass f = forward(tokens, targets, /*for_backward=*/true);
    const size_t n_blocks = layout_.size() - 1;
    if (n_blocks > 0) start_gather(n_blocks);  // refill the last block while the head runs backward

    // Head: d(loss)/d(root) (its head part) and d(loss)/d(last block's output).
    std::vector<at::Tensor> g = torch::autograd::grad({f.loss * loss_weight}, {units_[0].gathered, f.head_in});
    at::Tensor root_grad = g[0].to(at::kFloat);  // the root's two parts are summed in fp32
    at::Tensor dx = g[1];
    for (size_t i = n_blocks; i >= 1; --i) {
      wait_gather(i);
      if (i > 1) start_gather(i - 1);
      g = torch::autograd::grad({f.block_out[i - 1]}, {units_[i].gathered, f.block_in[i - 1]}, {dx});
      dx = g[1];
      f.block_out[i - 1] = at::Tensor();  // the block's graph is spent
      f.block_in[i - 1] = at::Tensor();
      drop_gathered(i);
      scatter_gradient(i, g[0]);
    }
    g = torch::autograd::grad({f.embedded}, {units_[0].gathered}, {dx});
    root_grad.add_(g[0]);
    drop_gathered(0);
    scatter_gradient(0, root_grad);
    finish_gradients();
    return f.loss.detach();
  }

  at::Tensor forward_loss(const at::Tensor& tokens, const at::Tensor& targets) override {
    bind_stream();
    c10::NoGradGuard no_grad;
    ForwardPass f = forward(tokens, targets, /*for_backward=*/false);
    drop_gathered(0);
    return f.loss;
  }

  at::Tensor reduce_gradients() override {
    bind_stream();
    c10::NoGradGuard no_grad;
    finish_gradients();
    at::Tensor total = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device_));
    for (const auto& x : units_) total += sum_of_squares(x.grad);
    // A non-finite element on any rank makes the sum non-finite on every rank: the overflow
    // check of the loss scaler rides on this one all-reduce.
    group_->all_reduce(total.data_ptr(), 1, DType::F32, ReduceOp::Sum);
    return total;
  }

  void apply_adamw(const AdamWOptions& o, double lr, const at::Tensor& grad_factor) override {
    c10::NoGradGuard no_grad;
    ++steps_;
    const int rank = group_->rank();
    for (size_t u = 0; u < units_.size(); ++u) {
      Unit& x = units_[u];
      x.grad.mul_(grad_factor);
      adamw_update_slice(x.master, x.grad, x.exp_avg, x.exp_avg_sq, steps_, lr, o, shards_[u].begin(rank),
                         layout_[u].decay_numel);
      x.grad.zero_();
      if (x.lowp.defined()) x.lowp.copy_(x.master);
    }
  }

  void zero_gradients() override {
    c10::NoGradGuard no_grad;
    finish_gradients();
    for (auto& x : units_) x.grad.zero_();
  }

  at::Tensor master_unit(size_t u) override {
    MPITUNE_CHECK(u < units_.size(), "unit index out of range");
    bind_stream();
    const ShardLayout& s = shards_[u];
    at::Tensor full = at::empty({s.padded}, at::TensorOptions().dtype(at::kFloat).device(device_));
    group_->all_gather(units_[u].master.data_ptr(), full.data_ptr(), static_cast<size_t>(s.slice), DType::F32);
    return full.narrow(0, 0, s.numel).clone();
  }

  void export_state(ByteWriter& w) const override {
    w.tag("zero3-gpt");
    w.i64(group_->size());
    w.i64(group_->rank());
    w.i64(static_cast<int64_t>(units_.size()));
    w.i64(steps_);
    for (size_t u = 0; u < units_.size(); ++u) {
      w.i64(shards_[u].numel);
      write_tensor(w, units_[u].master);
      write_tensor(w, units_[u].exp_avg);
      write_tensor(w, units_[u].exp_avg_sq);
    }
  }

  void import_state(ByteReader& r) override {
    c10::NoGradGuard no_grad;
    r.expect_tag("zero3-gpt");
    const int64_t g = r.i64(), rank = r.i64(), n = r.i64();
    if (g != group_->size() || rank != group_->rank())
      r.fail("state of rank " + std::to_string(rank) + " of a group of " + std::to_string(g) +
             " cannot be loaded by rank " + std::to_string(group_->rank()) + " of a group of " +
             std::to_string(group_->size()));
    if (n != static_cast<int64_t>(units_.size()))
      r.fail(std::to_string(n) + " units stored, the model has " + std::to_string(units_.size()));
    steps_ = r.i64();
    for (size_t u = 0; u < units_.size(); ++u) {
      const int64_t numel = r.i64();
      if (numel != shards_[u].numel)
        r.fail("unit " + layout_[u].name + " has " + std::to_string(numel) + " parameters stored, " +
               std::to_string(shards_[u].numel) + " in the model");
      read_tensor(r, units_[u].master, layout_[u].name + " master");
      read_tensor(r, units_[u].exp_avg, layout_[u].name + " exp_avg");
      read_tensor(r, units_[u].exp_avg_sq, layout_[u].name + " exp_avg_sq");
      units_[u].grad.zero_();
      if (units_[u].lowp.defined()) units_[u].lowp.copy_(units_[u].master);
    }
  }

 private:
  struct Unit {
    at::Tensor master, exp_avg, exp_avg_sq, grad;  // fp32 slices
    at::Tensor lowp;       // compute-dtype slice (bf16/fp16 only): what is all-gathered
    at::Tensor gathered;   // the whole padded unit in the compute dtype, while gathered
    std::unique_ptr<PendingCollective> gathering;
    const at::Tensor& source() const { return lowp.defined() ? lowp : master; }
  };
  struct PendingGradient {
    size_t unit;
    at::Tensor full;  // fp32 gradient of the whole unit: kept alive until the collective is done
    at::Tensor part;  // this rank's reduced slice
    std::unique_ptr<PendingCollective> op;
  };

  // CUDA: order the group's collectives against torch's current stream.
  void bind_stream() {
#ifdef MPITUNE_CUDA
    if (device_.is_cuda()) group_->set_stream(c10::cuda::getCurrentCUDAStream(device_.index()).stream());
#endif
  }

  ForwardPass forward(const at::Tensor& tokens, const at::Tensor& targets, bool for_backward) {
    ForwardPass f;
    const size_t n_blocks = layout_.size() - 1;
    start_gather(0);
    wait_gather(0);
    if (n_blocks > 0) start_gather(1);
    // Separate views for the embedding and the head, so the head's backward does not reach the
    // embedding's graph.
    at::Tensor x = gpt_embed(RootParams::from(unit_views(units_[0].gathered, layout_[0]), shape_.vocab), tokens);
    f.embedded = x;
    for (size_t i = 1; i <= n_blocks; ++i) {
      wait_gather(i);
      if (i < n_blocks) start_gather(i + 1);
      at::Tensor in = for_backward ? x.detach().requires_grad_(true) : x;
      x = gpt_block(BlockParams::from(unit_views(units_[i].gathered, layout_[i])), in, shape_.n_head);
      release_storage(units_[i].gathered);  // the graph keeps views; refilled before backward
      if (for_backward) {
        f.block_in.push_back(in);
        f.block_out.push_back(x);
      }
    }
    f.head_in = for_backward ? x.detach().requires_grad_(true) : x;
    f.loss = gpt_head_loss(RootParams::from(unit_views(units_[0].gathered, layout_[0]), shape_.vocab), f.head_in, targets);
    for (size_t u = 0; u < units_.size(); ++u)
      after_forward_[u] = units_[u].gathered.defined() ? static_cast<int64_t>(storage_bytes(units_[u].gathered)) : 0;
    return f;
  }

  // Posts the all-gather of unit u into its gathered buffer: a new leaf the first time in a
  // micro-batch, the same storage refilled when the forward released it.
  void start_gather(size_t u) {
    Unit& x = units_[u];
    const ShardLayout& s = shards_[u];
    if (!x.gathered.defined()) {
      x.gathered = at::empty({s.padded}, at::TensorOptions().dtype(dtype_).device(device_));
      x.gathered.requires_grad_(true);
    } else if (storage_bytes(x.gathered) == 0) {
      refill_storage(x.gathered, static_cast<size_t>(s.padded) * x.gathered.element_size());
    }
    x.gathering = group_->all_gather_async(x.source().data_ptr(), x.gathered.data_ptr(),
                                           static_cast<size_t>(s.slice), comm_dtype(dtype_));
  }

  void wait_gather(size_t u) {
    Unit& x = units_[u];
    if (x.gathering) x.gathering->wait();
    x.gathering.reset();
  }

  // The unit's gathered parameters are no longer needed in this micro-batch.
  void drop_gathered(size_t u) {
    Unit& x = units_[u];
    if (!x.gathered.defined()) return;
    wait_gather(u);
    release_storage(x.gathered);  // even if a stray view still holds the StorageImpl
    x.gathered = at::Tensor();
  }

  // Posts the reduce-scatter of unit u's gradient (any float dtype, the padded unit's length);
  // completes the previous one first, so at most two full gradients exist at once.
  void scatter_gradient(size_t u, const at::Tensor& g) {
    c10::NoGradGuard no_grad;
    finish_gradients();
    const ShardLayout& s = shards_[u];
    PendingGradient p;
    p.unit = u;
    p.full = g.to(at::kFloat).contiguous();
    p.part = at::empty({s.slice}, p.full.options());
    p.op = group_->reduce_scatter_async(p.full.data_ptr(), p.part.data_ptr(), static_cast<size_t>(s.slice),
                                        DType::F32, ReduceOp::Sum);
    pending_.push_back(std::move(p));
  }

  void finish_gradients() {
    c10::NoGradGuard no_grad;
    for (auto& p : pending_) {
      p.op->wait();
      units_[p.unit].grad.add_(p.part);
    }
    pending_.clear();
  }

  GptShape shape_;
  std::vector<UnitLayout> layout_;
  std::vector<ShardLayout> shards_;
  at::Device device_;
  Precision precision_;
  at::ScalarType dtype_;
  std::shared_ptr<Collectives> group_;
  std::vector<Unit> units_;
  std::vector<PendingGradient> pending_;
  std::vector<int64_t> after_forward_;
  int64_t steps_ = 0;
};

}  // namespace

std::unique_ptr<ShardedGpt> make_sharded_gpt(const GptShape& shape, uint64_t seed, at::Device device,
                                             Precision precision, std::shared_ptr<Collectives> group) {
#ifdef MPITUNE_CUDA
  c10::OptionalDeviceGuard guard;
  if (device.is_cuda()) guard.reset_device(device);
#endif
  return std::make_unique<ShardedGptImpl>(shape, seed, device, precision, std::move(group));
}

}  // namespace mpitune
