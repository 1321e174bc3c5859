// The ZeRO-3 sharded model: gathers, releases, refills and reduce-scatters around a per-unit
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
#include "mpitune/train/architecture.hpp"
#include "mpitune/train/frozen_key.hpp"
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
  std::vector<at::Tensor> block_in;    // detached inputs of the blocks (requiring grad when needed)
  std::vector<at::Tensor> block_out;   // outputs of the blocks
  at::Tensor head_in;                  // detached input of the final norm + head
};

class ShardedGptImpl final : public ShardedGpt {
 public:
  ShardedGptImpl(const ModelSpec& spec, const ModelInit& init, at::Device device, Precision precision,
                 std::shared_ptr<Collectives> group)
      : spec_(spec), layout_(model_layout(spec)), arch_(Architecture::make(spec)), device_(device),
        precision_(precision), dtype_(compute_scalar_type(precision)), group_(std::move(group)) {
    MPITUNE_CHECK(group_ != nullptr, "the sharded model needs a group");
    const int g = group_->size(), rank = group_->rank();
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device_);
    // Only pretrained values are the same for every trial (scratch ones depend on the seed).
    FrozenCache* cache = init.weights ? init.frozen : nullptr;
    units_.resize(unit_count(layout_));
    bufs_.resize(layout_.size());
    for (size_t b = 0; b < layout_.size(); ++b) {
      const UnitLayout& l = layout_[b];
      const ShardLayout shard = ShardLayout::make(l.numel, g);
      shards_.push_back(shard);
      units_[l.unit].push_back(b);
      Buf& x = bufs_[b];
      // Each rank reads or draws only its own slice: any G starts where the dense model starts.
      auto my_slice = [&] {
        at::Tensor v = at::empty({shard.slice}, at::TensorOptions().dtype(at::kFloat));
        initial_values(spec_, layout_, b, init, shard.begin(rank), shard.begin(rank) + shard.slice, v.data_ptr<float>());
        return v.to(device_);
      };
      if (!l.trainable) {
        x.fixed = frozen_slice(cache, spec_, l, precision_, device_, rank, g, my_slice);
        continue;
      }
      x.master = my_slice();
      x.exp_avg = at::zeros({shard.slice}, f32);
      x.exp_avg_sq = at::zeros({shard.slice}, f32);
      x.grad = at::zeros({shard.slice}, f32);
      if (precision_ != Precision::F32) x.lowp = x.master.to(dtype_);
      trainable_.push_back(b);
    }
    root_trainable_ = false;
    for (size_t b : units_[0]) root_trainable_ |= layout_[b].trainable;
    after_forward_.assign(units_.size(), 0);
  }

  ~ShardedGptImpl() override {
    // Collectives still in flight read or write our buffers: complete them first.
    try {
      for (auto& x : bufs_)
        if (x.gathering) x.gathering->wait();
      finish_gradients();
    } catch (...) {
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
  const std::vector<ShardLayout>& shards() const override { return shards_; }
  std::vector<int64_t> gathered_bytes_after_forward() const override { return after_forward_; }
  at::Tensor gradient_slice(size_t b) override { return bufs_.at(b).grad; }

  ShardedMemory memory() const override {
    ShardedMemory m;
    for (const auto& x : bufs_) {
      for (const at::Tensor* t : {&x.master, &x.exp_avg, &x.exp_avg_sq, &x.grad, &x.lowp, &x.fixed}) {
        if (!t->defined()) continue;
        const auto bytes = static_cast<int64_t>(storage_bytes(*t));
        m.persistent_bytes += bytes;
        if (t != &x.fixed) m.trainable_bytes += bytes;
      }
      if (x.gathered.defined()) m.gathered_bytes += static_cast<int64_t>(storage_bytes(x.gathered));
    }
    return m;
  }

  at::Tensor forward_backward(const at::Tensor& tokens, const at::Tensor& targets, double loss_weight) override {
    bind_stream();
    ForwardPass f = forward(tokens, targets, /*for_backward=*/true);
    const size_t n_blocks = units_.size() - 1;
    if (n_blocks > 0) start_gather(n_blocks);  // refill the last block while the head runs backward

    // Head: d(loss)/d(root's trainable buffers) (their head part) and d(loss)/d(last block's output).
    std::vector<at::Tensor> inputs = trainable_gathered(0);
    const size_t n_root = inputs.size();
    inputs.push_back(f.head_in);
    std::vector<at::Tensor> g = torch::autograd::grad({f.loss * loss_weight}, inputs);
    std::vector<at::Tensor> root_grads;  // the root's two parts are summed in fp32
    for (size_t k = 0; k < n_root; ++k) root_grads.push_back(g[k].to(at::kFloat));
    at::Tensor dx = g[n_root];
    for (size_t i = n_blocks; i >= 1; --i) {
      wait_gather(i);
      if (i > 1) start_gather(i - 1);
      inputs = trainable_gathered(i);
      const size_t n_own = inputs.size();
      const bool input_grad = i > 1 || root_trainable_;
      if (input_grad) inputs.push_back(f.block_in[i - 1]);
      if (!inputs.empty()) {
        g = torch::autograd::grad({f.block_out[i - 1]}, inputs, {dx});
        if (input_grad) dx = g[n_own];
      }
      f.block_out[i - 1] = at::Tensor();  // the block's graph is spent
      f.block_in[i - 1] = at::Tensor();
      drop_gathered(i);
      scatter_unit(i, g, n_own);
    }
    if (root_trainable_) {
      g = torch::autograd::grad({f.embedded}, trainable_gathered(0), {dx});
      for (size_t k = 0; k < n_root; ++k) root_grads[k].add_(g[k]);
    }
    drop_gathered(0);
    scatter_unit(0, root_grads, n_root);
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

  at::Tensor forward_logits(const at::Tensor& tokens) override {
    bind_stream();
    c10::NoGradGuard no_grad;
    ForwardPass f = forward(tokens, at::Tensor(), /*for_backward=*/false);
    at::Tensor l = arch_->logits(table(0), f.head_in).to(at::kFloat);
    drop_gathered(0);
    return l;
  }

  at::Tensor reduce_gradients() override {
    bind_stream();
    c10::NoGradGuard no_grad;
    finish_gradients();
    at::Tensor total = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(device_));
    for (size_t b : trainable_) total += sum_of_squares(bufs_[b].grad);
    // A non-finite element on any rank makes the sum non-finite on every rank: the overflow
    // check of the loss scaler rides on this one all-reduce.
    group_->all_reduce(total.data_ptr(), 1, DType::F32, ReduceOp::Sum);
    return total;
  }

  void apply_adamw(const AdamWOptions& o, double lr, const at::Tensor& grad_factor) override {
    c10::NoGradGuard no_grad;
    ++steps_;
    const int rank = group_->rank();
    for (size_t b : trainable_) {
      Buf& x = bufs_[b];
      x.grad.mul_(grad_factor);
      adamw_update_slice(x.master, x.grad, x.exp_avg, x.exp_avg_sq, steps_, lr, o, shards_[b].begin(rank),
                         layout_[b].decay_numel);
      x.grad.zero_();
      if (x.lowp.defined()) x.lowp.copy_(x.master);
    }
  }

  void zero_gradients() override {
    c10::NoGradGuard no_grad;
    finish_gradients();
    for (size_t b : trainable_) bufs_[b].grad.zero_();
  }

  at::Tensor buffer_values(size_t b) override {
    MPITUNE_CHECK(b < bufs_.size(), "buffer index out of range");
    bind_stream();
    const ShardLayout& s = shards_[b];
    const at::Tensor& mine = bufs_[b].master.defined() ? bufs_[b].master : bufs_[b].fixed;
    at::Tensor full = at::empty({s.padded}, mine.options());
    group_->all_gather(mine.data_ptr(), full.data_ptr(), static_cast<size_t>(s.slice), comm_dtype(mine.scalar_type()));
    return full.narrow(0, 0, s.numel).to(at::kFloat).clone();
  }

  void export_state(ByteWriter& w) const override {
    w.tag("zero3-gpt");
    w.i64(group_->size());
    w.i64(group_->rank());
    w.i64(static_cast<int64_t>(trainable_.size()));
    w.i64(steps_);
    for (size_t b : trainable_) {
      w.i64(shards_[b].numel);
      write_tensor(w, bufs_[b].master);
      write_tensor(w, bufs_[b].exp_avg);
      write_tensor(w, bufs_[b].exp_avg_sq);
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
    if (n != static_cast<int64_t>(trainable_.size()))
      r.fail(std::to_string(n) + " trainable buffers stored, the model has " + std::to_string(trainable_.size()));
    steps_ = r.i64();
    for (size_t b : trainable_) {
      const int64_t numel = r.i64();
      if (numel != shards_[b].numel)
        r.fail("buffer " + layout_[b].name + " has " + std::to_string(numel) + " parameters stored, " +
               std::to_string(shards_[b].numel) + " in the model");
      Buf& x = bufs_[b];
      read_tensor(r, x.master, layout_[b].name + " master");
      read_tensor(r, x.exp_avg, layout_[b].name + " exp_avg");
      read_tensor(r, x.exp_avg_sq, layout_[b].name + " exp_avg_sq");
      x.grad.zero_();
      if (x.lowp.defined()) x.lowp.copy_(x.master);
    }
  }

 private:
  struct Buf {
    at::Tensor master, exp_avg, exp_avg_sq, grad;  // fp32 slices (trainable buffers)
    at::Tensor lowp;       // compute-dtype slice (trainable, bf16/fp16 only): what is all-gathered
    at::Tensor fixed;      // compute-dtype slice of a frozen buffer
    at::Tensor gathered;   // the whole padded buffer in the compute dtype, while gathered
    std::unique_ptr<PendingCollective> gathering;
    const at::Tensor& source() const { return fixed.defined() ? fixed : lowp.defined() ? lowp : master; }
  };
  struct PendingGradient {
    size_t buffer;
    at::Tensor full;  // fp32 gradient of the whole buffer: kept alive until the collective is done
    at::Tensor part;  // this rank's reduced slice
    std::unique_ptr<PendingCollective> op;
  };

  // CUDA: order the group's collectives against torch's current stream.
  void bind_stream() {
#ifdef MPITUNE_CUDA
    if (device_.is_cuda()) group_->set_stream(c10::cuda::getCurrentCUDAStream(device_.index()).stream());
#endif
  }

  ParamTable table(size_t unit) const {
    ParamTable t;
    for (size_t b : units_[unit]) t.add(layout_[b], bufs_[b].gathered);
    return t;
  }

  std::vector<at::Tensor> trainable_gathered(size_t unit) const {
    std::vector<at::Tensor> out;
    for (size_t b : units_[unit])
      if (layout_[b].trainable) out.push_back(bufs_[b].gathered);
    return out;
  }

  ForwardPass forward(const at::Tensor& tokens, const at::Tensor& targets, bool for_backward) {
    ForwardPass f;
    const size_t n_blocks = units_.size() - 1;
    start_gather(0);
    wait_gather(0);
    if (n_blocks > 0) start_gather(1);
    // Separate views for the embedding and the head, so the head's backward does not reach the
    // embedding's graph.
    at::Tensor x = arch_->embed(table(0), tokens);
    f.embedded = x;
    for (size_t i = 1; i <= n_blocks; ++i) {
      wait_gather(i);
      if (i < n_blocks) start_gather(i + 1);
      at::Tensor in = x;
      if (for_backward) in = (i > 1 || root_trainable_) ? x.detach().requires_grad_(true) : x.detach();
      x = arch_->block(table(i), in, for_backward);
      for (size_t b : units_[i]) release_storage(bufs_[b].gathered);  // the graph keeps views; refilled before backward
      if (for_backward) {
        f.block_in.push_back(in);
        f.block_out.push_back(x);
      }
    }
    f.head_in = for_backward ? x.detach().requires_grad_(true) : x;
    if (targets.defined()) f.loss = arch_->loss_sum(table(0), f.head_in, targets);
    for (size_t u = 0; u < units_.size(); ++u) {
      after_forward_[u] = 0;
      for (size_t b : units_[u])
        if (bufs_[b].gathered.defined()) after_forward_[u] += static_cast<int64_t>(storage_bytes(bufs_[b].gathered));
    }
    return f;
  }

  // Posts the all-gathers of unit u's buffers: new leaves the first time in a micro-batch (a
  // trainable one requires grad), the same storage refilled when the forward released it.
  void start_gather(size_t u) {
    for (size_t b : units_[u]) {
      Buf& x = bufs_[b];
      const ShardLayout& s = shards_[b];
      if (!x.gathered.defined()) {
        x.gathered = at::empty({s.padded}, at::TensorOptions().dtype(dtype_).device(device_));
        if (layout_[b].trainable) x.gathered.requires_grad_(true);
      } else if (storage_bytes(x.gathered) == 0) {
        refill_storage(x.gathered, static_cast<size_t>(s.padded) * x.gathered.element_size());
      }
      x.gathering = group_->all_gather_async(x.source().data_ptr(), x.gathered.data_ptr(), static_cast<size_t>(s.slice),
                                             comm_dtype(dtype_));
    }
  }

  void wait_gather(size_t u) {
    for (size_t b : units_[u]) {
      Buf& x = bufs_[b];
      if (x.gathering) x.gathering->wait();
      x.gathering.reset();
    }
  }

  // The unit's gathered parameters are no longer needed in this micro-batch.
  void drop_gathered(size_t u) {
    wait_gather(u);
    for (size_t b : units_[u]) {
      Buf& x = bufs_[b];
      if (!x.gathered.defined()) continue;
      release_storage(x.gathered);  // even if a stray view still holds the StorageImpl
      x.gathered = at::Tensor();
    }
  }

  // Posts the reduce-scatters of unit u's trainable buffers' gradients grads[0, n) (in the order
  // of trainable_gathered(u)).
  void scatter_unit(size_t u, const std::vector<at::Tensor>& grads, size_t n) {
    size_t k = 0;
    for (size_t b : units_[u])
      if (layout_[b].trainable && k < n) scatter_gradient(b, grads[k++]);
  }

  // Posts the reduce-scatter of buffer b's gradient (any float dtype, the padded buffer's
  // length); completes the earlier ones first, so at most two full gradients exist at once.
  void scatter_gradient(size_t b, const at::Tensor& g) {
    c10::NoGradGuard no_grad;
    finish_gradients();
    const ShardLayout& s = shards_[b];
    PendingGradient p;
    p.buffer = b;
    p.full = g.to(at::kFloat).contiguous();
    p.part = at::empty({s.slice}, p.full.options());
    p.op = group_->reduce_scatter_async(p.full.data_ptr(), p.part.data_ptr(), static_cast<size_t>(s.slice), DType::F32,
                                        ReduceOp::Sum);
    pending_.push_back(std::move(p));
  }

  void finish_gradients() {
    c10::NoGradGuard no_grad;
    for (auto& p : pending_) {
      p.op->wait();
      bufs_[p.buffer].grad.add_(p.part);
    }
    pending_.clear();
  }

  ModelSpec spec_;
  std::vector<UnitLayout> layout_;
  std::unique_ptr<Architecture> arch_;
  std::vector<ShardLayout> shards_;
  at::Device device_;
  Precision precision_;
  at::ScalarType dtype_;
  std::shared_ptr<Collectives> group_;
  std::vector<Buf> bufs_;
  std::vector<std::vector<size_t>> units_;  // unit -> its buffers
  std::vector<size_t> trainable_;
  bool root_trainable_ = false;
  std::vector<PendingGradient> pending_;
  std::vector<int64_t> after_forward_;
  int64_t steps_ = 0;
};

}  // namespace

std::unique_ptr<ShardedGpt> make_sharded_gpt(const ModelSpec& spec, const ModelInit& init, at::Device device,
                                             Precision precision, std::shared_ptr<Collectives> group) {
#ifdef MPITUNE_CUDA
  c10::OptionalDeviceGuard guard;
  if (device.is_cuda()) guard.reset_device(device);
#endif
  return std::make_unique<ShardedGptImpl>(spec, init, device, precision, std::move(group));
}

}  // namespace mpitune
