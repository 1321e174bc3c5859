// The GPT trainable: trial set-up, the step loop and evaluation (see gpt_trainable.hpp).
#include "mpitune/train/gpt_trainable.hpp"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <new>
#include <utility>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/train/data.hpp"
#include "mpitune/train/dense_gpt.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/optim.hpp"

namespace mpitune {
namespace {

// Runs f, turning what torch throws (bad shapes, out of memory) into a TrialError that says
// what was being done; mpitune's own errors pass through.
template <typename F>
auto as_trial_error(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const TrialError&) {
    throw;
  } catch (const InfraError&) {
    throw;
  } catch (const ConfigError& e) {
    throw TrialError(std::string(what) + ": " + e.what());
  } catch (const c10::Error& e) {
    throw TrialError(std::string(what) + ": " + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw TrialError(std::string(what) + ": out of memory");
  }
}

// Windows of bytes -> (inputs, targets) [rows, window - 1] int64 on `device`.
std::pair<at::Tensor, at::Tensor> to_batch(std::vector<uint8_t>& bytes, int64_t rows, int64_t window,
                                           at::Device device) {
  const at::Tensor w = at::from_blob(bytes.data(), {rows, window}, at::kByte).to(at::kLong).to(device);
  return {w.narrow(1, 0, window - 1), w.narrow(1, 1, window - 1)};
}

class GptTrainable final : public Trainable {
 public:
  GptTrainable(const ExperimentConfig& base, std::shared_ptr<Collectives> group)
      : base_(base), group_(std::move(group)),
        corpus_(Corpus::load(base.data.corpus, base.data.val_fraction)) {}

  void start(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) override {
    release();
    as_trial_error("starting the trial", [&] {
      auto t = std::make_unique<Trial>();
      t->cfg = with_hparams(base_, hp);
      const auto& c = t->cfg;
      t->shape = GptShape::from(c.model);
      t->window = t->shape.seq_len + 1;
      const int64_t shortest = std::min<int64_t>(corpus_.train().size(), corpus_.validation().size());
      if (shortest < t->window)
        throw TrialError("seq_len = " + std::to_string(t->shape.seq_len) + " needs windows of " +
                         std::to_string(t->window) + " bytes but a split of the corpus has only " +
                         std::to_string(shortest));
      const Precision precision = parse_precision(c.train.precision);
      if (precision == Precision::F16)
        throw TrialError("fp16 training needs the dynamic loss scaler, which this build lacks; use bf16");
      const std::string dev = resolve_device(c.train.device);
      t->device = dev == "cuda" ? at::Device(at::kCUDA) : at::Device(at::kCPU);
      const int64_t per_micro = int64_t(c.train.accumulation) * group_size();
      if (c.train.batch_size % per_micro != 0)
        throw TrialError("batch_size = " + std::to_string(c.train.batch_size) +
                         " is not a multiple of accumulation x group size = " + std::to_string(per_micro));
      t->micro = c.train.batch_size / per_micro;
      t->adamw = AdamWOptions::from(c.train);
      t->max_steps = max_steps;
      t->data_rng = Rng(derive_seed(seed, "data"));
      t->eval_offsets = spaced_windows(static_cast<int64_t>(corpus_.validation().size()), t->window,
                                       int64_t(base_.data.eval_batches) * base_.train.batch_size);
      t->model = make_dense_gpt(t->shape, seed, t->device, precision, group_);
      t->id = trial;
      trial_ = std::move(t);
    });
  }

  int64_t step() const override { return trial_ ? trial_->step : 0; }

  StepResult train_step() override {
    MPITUNE_CHECK(trial_, "train_step without a started trial");
    return as_trial_error("training step", [&] { return run_step(*trial_); });
  }

  double evaluate() override {
    MPITUNE_CHECK(trial_, "evaluate without a started trial");
    return as_trial_error("evaluation", [&] { return run_eval(*trial_); });
  }

  void release() override { trial_.reset(); }

 private:
  struct Trial {
    int64_t id = 0;
    ExperimentConfig cfg;
    GptShape shape;
    int64_t window = 0;  // seq_len + 1 bytes
    int64_t micro = 0;   // rows per micro-batch on this rank
    AdamWOptions adamw;
    at::Device device = at::kCPU;
    int64_t max_steps = 0;
    int64_t step = 0;
    Rng data_rng;
    std::vector<int64_t> eval_offsets;
    std::unique_ptr<GptModel> model;
  };

  int group_size() const { return group_ ? group_->size() : 1; }
  int group_rank() const { return group_ ? group_->rank() : 0; }

  // Mean over the ranks of a value every rank holds (identity for one rank).
  double group_mean(double v) const {
    if (group_size() == 1) return v;
    group_->all_reduce(&v, 1, DType::F64, ReduceOp::Sum);
    return v / group_size();
  }

  StepResult run_step(Trial& t) {
    const TrainOptions& o = t.cfg.train;
    const int64_t accumulation = o.accumulation;
    const double lr = learning_rate(t.step, o.lr, o.warmup_steps, t.max_steps, o.min_lr_ratio);
    // Every rank draws the whole global batch so that the data stream is the same for any G.
    const std::vector<int64_t> offsets =
        draw_windows(t.data_rng, static_cast<int64_t>(corpus_.train().size()), t.window, o.batch_size);
    const RowRange mine = rank_rows(o.batch_size, group_rank(), group_size());
    // Each micro-batch's mean loss weighs 1/(A G) so the summed gradient is the global mean's.
    const double weight = 1.0 / static_cast<double>(accumulation * group_size());
    at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(t.device));
    for (int64_t a = 0; a < accumulation; ++a) {
      const int64_t begin = mine.begin + a * t.micro;
      std::vector<uint8_t> bytes = read_windows(corpus_.train(), offsets, begin, begin + t.micro, t.window);
      const auto [tokens, targets] = to_batch(bytes, t.micro, t.window, t.device);
      loss_sum += t.model->forward_backward(tokens, targets, weight);
    }
    // fp16 (CUDA) will unscale here and skip the update on overflow (the loss scaler's place).
    const at::Tensor norm_squared = t.model->reduce_gradients();
    t.model->apply_adamw(t.adamw, lr, clip_factor(norm_squared, o.grad_clip));
    ++t.step;

    StepResult r;
    r.loss = group_mean(loss_sum.item<double>() / static_cast<double>(accumulation));
    r.lr = lr;
    r.tokens = int64_t(o.batch_size) * t.shape.seq_len;
    r.loss_scale = 1;
    return r;
  }

  double run_eval(Trial& t) {
    const int64_t batch = base_.train.batch_size;
    const RowRange mine = rank_rows(batch, group_rank(), group_size());
    const int64_t chunk = std::min(t.micro, mine.count());
    double weighted = 0;  // sum over chunks of mean loss x rows
    int64_t rows = 0;
    for (int64_t b = 0; b < base_.data.eval_batches; ++b) {
      for (int64_t begin = b * batch + mine.begin; begin < b * batch + mine.end; begin += chunk) {
        const int64_t n = std::min(chunk, b * batch + mine.end - begin);
        std::vector<uint8_t> bytes = read_windows(corpus_.validation(), t.eval_offsets, begin, begin + n, t.window);
        const auto [tokens, targets] = to_batch(bytes, n, t.window, t.device);
        weighted += t.model->forward_loss(tokens, targets).item<double>() * static_cast<double>(n);
        rows += n;
      }
    }
    return group_mean(weighted / static_cast<double>(rows));
  }

  ExperimentConfig base_;
  std::shared_ptr<Collectives> group_;
  Corpus corpus_;
  std::unique_ptr<Trial> trial_;
};

}  // namespace

std::unique_ptr<Trainable> make_gpt_trainable(const ExperimentConfig& base,
                                              std::shared_ptr<Collectives> group) {
  return std::make_unique<GptTrainable>(base, std::move(group));
}

}  // namespace mpitune
