// The GPT trainable: trial set-up, the step loop, evaluation and the trial's state bytes
// (see gpt_trainable.hpp).
#include "mpitune/train/gpt_trainable.hpp"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <new>
#include <sstream>
#include <utility>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/train/checkpoint.hpp"
#include "mpitune/train/data.hpp"
#include "mpitune/train/dense_gpt.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/loss_scaler.hpp"
#include "mpitune/train/optim.hpp"
#include "mpitune/train/sharded_gpt.hpp"
#include "mpitune/train/state_io.hpp"
#include "mpitune/train/update_step.hpp"

namespace mpitune {
namespace {

constexpr int64_t kStateVersion = 1;

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

std::string shape_text(const GptShape& s) {
  std::ostringstream o;
  o << "n_layer " << s.n_layer << " n_head " << s.n_head << " d_model " << s.d_model << " seq_len " << s.seq_len
    << " vocab " << s.vocab;
  return o.str();
}

class GptTrainable final : public Trainable {
 public:
  GptTrainable(const ExperimentConfig& base, std::shared_ptr<Collectives> group, int cuda_device)
      : base_(base), group_(std::move(group)), cuda_device_(cuda_device),
        corpus_(Corpus::load(base.data.corpus, base.data.val_fraction)) {}

  void start(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) override {
    release();
    as_trial_error("starting the trial", [&] { trial_ = make_trial(trial, hp, seed, max_steps); });
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

  void save_checkpoint(const std::string& dir) override {
    MPITUNE_CHECK(trial_, "save_checkpoint without a started trial");
    const Trial& t = *trial_;
    CheckpointManifest m;
    m.trial = t.id;
    m.step = t.step;
    m.precision = precision_name(t.model->precision());
    m.shape = shape_text(t.shape);
    for (const auto& u : t.model->layout()) m.units.emplace_back(u.name, u.numel);
    save_sharded_checkpoint(dir, export_state(), std::move(m), group_.get());
  }

  void load_checkpoint(const std::string& dir, int64_t trial, const HParams& hp) override {
    const LoadedCheckpoint c = load_sharded_checkpoint(dir, group_.get());
    std::exception_ptr err;
    try {
      import_state(c.state, trial, hp, "checkpoint " + dir);
    } catch (...) {
      err = std::current_exception();
    }
    agree_on_failure(group_.get(), err, "loading checkpoint " + dir);
  }

  std::vector<uint8_t> save_state() override { return export_state(); }

  void load_state(const std::vector<uint8_t>& bytes, int64_t trial, const HParams& hp) override {
    import_state(bytes, trial, hp, "trial state of " + std::to_string(bytes.size()) + " bytes");
  }

  // PBT's explore: the held trial goes on with `hp` from its next step. The model's shape and
  // precision (and the device) are fixed by its parameters and state; the rest (lr, weight
  // decay, betas, clipping, schedule, batch size, accumulation) may change.
  void update_hparams(const HParams& hp) override {
    MPITUNE_CHECK(trial_, "update_hparams without a started trial");
    Trial& t = *trial_;
    as_trial_error("changing hyperparameters", [&] {
      const ExperimentConfig cfg = with_hparams(base_, hp);
      const GptShape shape = GptShape::from(cfg.model);
      if (shape_text(shape) != shape_text(t.shape) || cfg.train.precision != t.cfg.train.precision)
        throw TrialError("the model's shape and precision cannot change during a trial (" + shape_text(t.shape) +
                         ", " + t.cfg.train.precision + "; asked for " + shape_text(shape) + ", " +
                         cfg.train.precision + ")");
      const int64_t per_micro = int64_t(cfg.train.accumulation) * group_size();
      if (cfg.train.batch_size % per_micro != 0)
        throw TrialError("batch_size = " + std::to_string(cfg.train.batch_size) +
                         " is not a multiple of accumulation x group size = " + std::to_string(per_micro));
      t.cfg = cfg;
      t.hparams = hp;
      t.micro = cfg.train.batch_size / per_micro;
      t.adamw = AdamWOptions::from(cfg.train);
    });
  }

  GptModel* model() { return trial_ ? trial_->model.get() : nullptr; }

  // The trial's header, the loss scaler, the data position and the model's state of this rank.
  std::vector<uint8_t> export_state() const {
    MPITUNE_CHECK(trial_, "no trial to export");
    const Trial& t = *trial_;
    ByteWriter w;
    w.tag("gpt-trial");
    w.i64(kStateVersion);
    w.i64(t.id);
    w.u64(t.seed);
    w.i64(t.max_steps);
    w.i64(t.step);
    w.str(precision_name(t.model->precision()));
    w.str(shape_text(t.shape));
    w.i64(group_size());
    w.i64(group_rank());
    w.str(t.hparams.to_string());
    for (uint64_t s : t.data_rng.state()) w.u64(s);
    w.i64(t.scaler ? 1 : 0);
    if (t.scaler) {
      w.f64(t.scaler->state().scale);
      w.i64(t.scaler->state().clean_steps);
      w.i64(t.scaler->state().hysteresis_left);
    }
    t.model->export_state(w);
    return w.take();
  }

  // A trial set up from `hp` (the model shape and precision must match the stored ones; the
  // rest of hp, e.g. a PBT-perturbed lr, applies from here on) and continued from the bytes.
  void import_state(const std::vector<uint8_t>& bytes, int64_t trial, const HParams& hp, const std::string& what) {
    release();
    ByteReader r(bytes, what);
    r.expect_tag("gpt-trial");
    if (r.i64() != kStateVersion) r.fail("unknown state version");
    r.i64();  // the trial id it was saved under (a PBT clone continues it as another trial)
    const uint64_t seed = r.u64();
    const int64_t max_steps = r.i64();
    const int64_t step = r.i64();
    const std::string precision = r.str();
    const std::string shape = r.str();
    const int64_t g = r.i64(), rank = r.i64();
    r.str();  // the hyperparameters it was trained with: informative only
    Rng::State rng{};
    for (auto& s : rng) s = r.u64();
    if (g != group_size() || rank != group_rank())
      r.fail("state of rank " + std::to_string(rank) + " of a group of " + std::to_string(g) +
             " cannot continue on rank " + std::to_string(group_rank()) + " of a group of " +
             std::to_string(group_size()));
    std::unique_ptr<Trial> t;
    as_trial_error("resuming the trial", [&] { t = make_trial(trial, hp, seed, max_steps); });
    if (shape != shape_text(t->shape) || precision != precision_name(t->model->precision()))
      throw TrialError(what + " holds a " + precision + " model of shape '" + shape + "' but trial " +
                       std::to_string(trial) + "'s config gives a " + precision_name(t->model->precision()) +
                       " model of shape '" + shape_text(t->shape) + "'");
    const bool has_scaler = r.i64() != 0;
    if (has_scaler) {
      DynamicLossScaler::State s;
      s.scale = r.f64();
      s.clean_steps = r.i64();
      s.hysteresis_left = static_cast<int>(r.i64());
      if (t->scaler) t->scaler->set_state(s);
    }
    t->model->import_state(r);
    if (!r.at_end()) r.fail("trailing bytes after the model state");
    t->step = step;
    t->data_rng.set_state(rng);
    trial_ = std::move(t);
  }

 private:
  struct Trial {
    int64_t id = 0;
    uint64_t seed = 0;
    HParams hparams;
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
    std::unique_ptr<DynamicLossScaler> scaler;  // fp16 only
  };

  int group_size() const { return group_ ? group_->size() : 1; }
  int group_rank() const { return group_ ? group_->rank() : 0; }

  std::unique_ptr<Trial> make_trial(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) const {
    auto t = std::make_unique<Trial>();
    t->id = trial;
    t->seed = seed;
    t->hparams = hp;
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
    const std::string dev = resolve_device(c.train.device);
    if (precision == Precision::F16 && dev != "cuda")
      throw TrialError("fp16 needs a CUDA device (CPU kernels lack fp16); use bf16 or fp32 on CPU");
    t->device = dev == "cuda" ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(cuda_device_)) : at::Device(at::kCPU);
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
    if (group_)
      t->model = make_sharded_gpt(t->shape, seed, t->device, precision, group_);
    else
      t->model = make_dense_gpt(t->shape, seed, t->device, precision, nullptr);
    if (precision == Precision::F16) t->scaler = std::make_unique<DynamicLossScaler>();
    return t;
  }

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
    // Each micro-batch's mean loss weighs 1/(A G) so the summed gradient is the global mean's;
    // times the loss scale under fp16.
    const double scale = t.scaler ? t.scaler->scale() : 1.0;
    const double weight = scale / static_cast<double>(accumulation * group_size());
    at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(t.device));
    for (int64_t a = 0; a < accumulation; ++a) {
      const int64_t begin = mine.begin + a * t.micro;
      std::vector<uint8_t> bytes = read_windows(corpus_.train(), offsets, begin, begin + t.micro, t.window);
      const auto [tokens, targets] = to_batch(bytes, t.micro, t.window, t.device);
      loss_sum += t.model->forward_backward(tokens, targets, weight);
    }
    const UpdateOutcome u = update_parameters(*t.model, t.scaler.get(), t.adamw, lr, o.grad_clip);
    ++t.step;

    StepResult r;
    r.loss = group_mean(loss_sum.item<double>() / static_cast<double>(accumulation));
    r.lr = lr;
    r.tokens = int64_t(o.batch_size) * t.shape.seq_len;
    r.loss_scale = u.loss_scale;
    r.skipped = u.skipped;
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
  int cuda_device_;
  Corpus corpus_;
  std::unique_ptr<Trial> trial_;
};

}  // namespace

std::unique_ptr<Trainable> make_gpt_trainable(const ExperimentConfig& base, std::shared_ptr<Collectives> group,
                                              int cuda_device) {
  return std::make_unique<GptTrainable>(base, std::move(group), cuda_device);
}

GptModel* gpt_model_of(Trainable& t) {
  auto* g = dynamic_cast<GptTrainable*>(&t);
  return g ? g->model() : nullptr;
}

}  // namespace mpitune
