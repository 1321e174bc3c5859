// The GPT trainable: trial set-up, the step loop, evaluation and the trial's state bytes
// (see gpt_trainable.hpp).
#include "mpitune/train/gpt_trainable.hpp"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <limits>
#include <new>
#include <utility>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/train/checkpoint.hpp"
#include "mpitune/train/dense_gpt.hpp"
#include "mpitune/train/document_losses.hpp"
#include "mpitune/train/gpt_config.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/loss_scaler.hpp"
#include "mpitune/train/model_source.hpp"
#include "mpitune/train/optim.hpp"
#include "mpitune/train/sharded_gpt.hpp"
#include "mpitune/train/state_io.hpp"
#include "mpitune/train/token_batches.hpp"
#include "mpitune/train/update_step.hpp"

namespace mpitune {
namespace {

constexpr int64_t kStateVersion = 2;
// A training batch whose windows hold no counted target (prompt-only stretches of
// prompt/completion data) is drawn again, at most this many times.
constexpr int kRedraws = 100;

// A device or host out-of-memory as a failure reason: torch's first line (how much it tried to
// allocate, what the device holds) and what to change.
std::string out_of_memory_text(const std::string& detail) {
  const std::string first = detail.substr(0, detail.find('\n'));
  return "out of memory (" + first + "); this trial's batch or model does not fit: lower train.batch_size, raise "
         "train.accumulation, or shrink the model (the group goes on with the next trial)";
}

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
  } catch (const c10::OutOfMemoryError& e) {
    // CUDA's out of memory is this trial's, not the job's (its batch or model is too large for
    // the device): the worker fails the trial and releases it, so the next one starts on a
    // clean device (release_cached_device_memory).
    throw TrialError(std::string(what) + ": " + out_of_memory_text(e.what_without_backtrace()));
  } catch (const c10::Error& e) {
    // libtorch 1.13's CPU allocator reports its failure as a plain c10::Error.
    const std::string text = e.what_without_backtrace();
    const bool memory = text.find("not enough memory") != std::string::npos ||
                        text.find("can't allocate memory") != std::string::npos ||
                        text.find("out of memory") != std::string::npos;
    throw TrialError(std::string(what) + ": " + (memory ? out_of_memory_text(text) : text));
  } catch (const std::bad_alloc&) {
    throw TrialError(std::string(what) + ": " + out_of_memory_text("the host allocator failed"));
  }
}

class GptTrainable final : public Trainable {
 public:
  GptTrainable(const ExperimentConfig& base, std::shared_ptr<Collectives> group, int cuda_device)
      : base_(base), group_(std::move(group)), cuda_device_(cuda_device), source_(ModelSource::open(base)) {}

  void start(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) override {
    release();
    as_trial_error("starting the trial", [&] {
      std::unique_ptr<Trial> t = make_trial(trial, hp, seed, max_steps);
      check_windows(*t);
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

  double evaluate_retention() override {
    MPITUNE_CHECK(trial_, "evaluate_retention without a started trial");
    if (base_.data.retention_corpus.empty()) return std::numeric_limits<double>::quiet_NaN();
    return as_trial_error("retention evaluation", [&] {
      Trial& t = *trial_;
      const TokenSplit& split = retention_corpus().validation();
      if (t.retention_offsets.empty())
        t.retention_offsets = spaced_windows(split, t.window, int64_t(base_.data.eval_batches) * base_.train.batch_size);
      return split_loss(t, split, t.retention_offsets, "retention");
    });
  }

  DocumentLosses evaluate_test_documents() override {
    MPITUNE_CHECK(trial_, "evaluate_test_documents without a started trial");
    return as_trial_error("test evaluation", [&] {
      Trial& t = *trial_;
      const TokenSplit& test = corpus().test();
      if (test.documents == 0)
        throw TrialError("the corpus has no test split (set data.test_fraction or data.test_corpus)");
      return document_losses(*t.model, test, t.spec.seq_len, std::max<int64_t>(1, t.micro), group_.get());
    });
  }

  void release() override {
    if (!trial_) return;
    trial_.reset();
    release_cached_device_memory();  // after a failure (out of memory above all) the next trial starts clean
  }

  void save_checkpoint(const std::string& dir) override {
    MPITUNE_CHECK(trial_, "save_checkpoint without a started trial");
    const Trial& t = *trial_;
    CheckpointManifest m;
    m.trial = t.id;
    m.step = t.step;
    m.precision = precision_name(t.model->precision());
    m.shape = t.spec.shape_text();
    for (const auto& u : t.model->layout())
      if (u.trainable) m.units.emplace_back(u.name, u.numel);
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

  // PBT's explore: the held trial goes on with `hp` from its next step. The model's shapes and
  // precision (and the device) are fixed by its parameters and state; the rest (lr, weight
  // decay, betas, clipping, schedule, batch size, accumulation, LoRA's alpha and dropout) may
  // change.
  void update_hparams(const HParams& hp) override {
    MPITUNE_CHECK(trial_, "update_hparams without a started trial");
    Trial& t = *trial_;
    as_trial_error("changing hyperparameters", [&] {
      const ExperimentConfig cfg = with_hparams(base_, hp);
      const ModelSpec spec = source_.spec(cfg);
      if (spec.shape_text() != t.spec.shape_text() || spec.seq_len != t.spec.seq_len ||
          cfg.train.precision != t.cfg.train.precision)
        throw TrialError("the model's shape and precision cannot change during a trial (" + t.spec.shape_text() +
                         ", " + t.cfg.train.precision + "; asked for " + spec.shape_text() + ", " +
                         cfg.train.precision + ")");
      t.micro = micro_batch(cfg);
      t.cfg = cfg;
      t.hparams = hp;
      t.adamw = AdamWOptions::from(cfg.train);
      if (spec.lora.alpha != t.spec.lora.alpha || spec.lora.dropout != t.spec.lora.dropout)
        t.model->set_lora(spec.lora.alpha, spec.lora.dropout);
      t.spec = spec;
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
    w.str(t.spec.shape_text());
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
    if (shape != t->spec.shape_text() || precision != precision_name(t->model->precision()))
      throw TrialError(what + " holds a " + precision + " model of shape '" + shape + "' but trial " +
                       std::to_string(trial) + "'s config gives a " + precision_name(t->model->precision()) +
                       " model of shape '" + t->spec.shape_text() + "'");
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
    ModelSpec spec;
    int64_t window = 0;  // seq_len + 1 tokens
    int64_t micro = 0;   // rows per micro-batch on this rank
    AdamWOptions adamw;
    at::Device device = at::kCPU;
    int64_t max_steps = 0;
    int64_t step = 0;
    Rng data_rng;
    std::vector<int64_t> eval_offsets;
    std::vector<int64_t> retention_offsets;
    std::unique_ptr<GptModel> model;
    std::unique_ptr<DynamicLossScaler> scaler;  // fp16 only
  };

  int group_size() const { return group_ ? group_->size() : 1; }
  int group_rank() const { return group_ ? group_->rank() : 0; }

  int64_t micro_batch(const ExperimentConfig& c) const {
    const int64_t per_micro = int64_t(c.train.accumulation) * group_size();
    if (c.train.batch_size % per_micro != 0)
      throw TrialError("batch_size = " + std::to_string(c.train.batch_size) +
                       " is not a multiple of accumulation x group size = " + std::to_string(per_micro));
    return c.train.batch_size / per_micro;
  }

  std::unique_ptr<Trial> make_trial(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) {
    auto t = std::make_unique<Trial>();
    t->id = trial;
    t->seed = seed;
    t->hparams = hp;
    t->cfg = with_hparams(base_, hp);
    const auto& c = t->cfg;
    t->spec = source_.spec(c);
    t->window = t->spec.seq_len + 1;
    const Precision precision = parse_precision(c.train.precision);
    const std::string dev = resolve_device(c.train.device);
    if (precision == Precision::F16 && dev != "cuda")
      throw TrialError("fp16 needs a CUDA device (CPU kernels lack fp16); use bf16 or fp32 on CPU");
    t->device = dev == "cuda" ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(cuda_device_)) : at::Device(at::kCPU);
    t->micro = micro_batch(c);
    t->adamw = AdamWOptions::from(c.train);
    t->max_steps = max_steps;
    t->data_rng = Rng(derive_seed(seed, "data"));
    // LoRA dropout draws from torch's generator: seeded per trial so a trial repeats.
    at::manual_seed(derive_seed(seed, "dropout"));
    ModelInit init;
    init.seed = seed;
    init.weights = source_.weights ? &*source_.weights : nullptr;
    init.frozen = &frozen_;
    if (group_)
      t->model = make_sharded_gpt(t->spec, init, t->device, precision, group_);
    else
      t->model = make_dense_gpt(t->spec, init, t->device, precision, nullptr);
    if (precision == Precision::F16) t->scaler = std::make_unique<DynamicLossScaler>();
    return t;
  }

  // The token corpus, opened on first use (a trial loaded only to be exported needs none). Rank
  // 0 tokenized it before the job (validate_gpt_config): this finds the cached file.
  const TokenCorpus& corpus() {
    if (!corpus_) {
      const PreparedCorpus p = prepare_token_corpus(base_.data, *source_.tokenizer, token_cache_dir(base_),
                                                    largest_seq_len(base_) + 1, /*progress=*/false);
      corpus_ = TokenCorpus::open(p.path);
    }
    return *corpus_;
  }

  // The retention corpus (data.retention_corpus), tokenized by rank 0 before the job like the
  // corpus: every document of it is in its validation split.
  const TokenCorpus& retention_corpus() {
    if (!retention_) {
      const PreparedCorpus p = prepare_token_corpus(retention_data_options(base_), *source_.tokenizer,
                                                    token_cache_dir(base_), largest_seq_len(base_) + 1, false);
      retention_ = TokenCorpus::open(p.path);
    }
    return *retention_;
  }

  // The trial's windows must fit the splits; its evaluation windows, the same for every trial.
  void check_windows(Trial& t) {
    const int64_t shortest = std::min(corpus().train().size, corpus().validation().size);
    if (shortest < t.window)
      throw TrialError("seq_len = " + std::to_string(t.spec.seq_len) + " needs windows of " + std::to_string(t.window) +
                       " tokens but a split of the corpus has only " + std::to_string(shortest));
    if (t.eval_offsets.empty())
      t.eval_offsets = spaced_windows(corpus().validation(), t.window,
                                      int64_t(base_.data.eval_batches) * base_.train.batch_size);
  }

  // Sum over the ranks (identity for one rank).
  double group_sum(double v) const {
    if (group_size() > 1) group_->all_reduce(&v, 1, DType::F64, ReduceOp::Sum);
    return v;
  }

  StepResult run_step(Trial& t) {
    const TrainOptions& o = t.cfg.train;
    const int64_t accumulation = o.accumulation;
    const double lr = learning_rate(t.step, o.lr, o.warmup_steps, t.max_steps, o.min_lr_ratio);
    check_windows(t);
    const TokenSplit& train = corpus().train();
    // Every rank draws the whole global batch, so the data stream is the same for any G, and
    // counts its targets, so every rank weighs its rows by the same global count.
    std::vector<int64_t> offsets;
    int64_t counted = 0;
    for (int attempt = 0; counted == 0; ++attempt) {
      if (attempt == kRedraws)
        throw TrialError("no training window holds a target whose loss counts (are all completions empty?)");
      offsets = draw_windows(t.data_rng, train, t.window, o.batch_size);
      counted = count_targets(train, offsets, 0, o.batch_size, t.window);
    }
    const RowRange mine = rank_rows(o.batch_size, group_rank(), group_size());
    // Each micro-batch's loss sum weighs 1/(targets of the global batch): the summed gradient is
    // the global mean's; times the loss scale under fp16.
    const double scale = t.scaler ? t.scaler->scale() : 1.0;
    const double weight = scale / static_cast<double>(counted);
    at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(t.device));
    for (int64_t a = 0; a < accumulation; ++a) {
      const int64_t begin = mine.begin + a * t.micro;
      const auto [tokens, targets] = token_batch(train, offsets, begin, begin + t.micro, t.window, t.device);
      loss_sum += t.model->forward_backward(tokens, targets, weight);
    }
    const UpdateOutcome u = update_parameters(*t.model, t.scaler.get(), t.adamw, lr, o.grad_clip);
    ++t.step;

    StepResult r;
    r.loss = group_sum(loss_sum.item<double>()) / static_cast<double>(counted);
    r.lr = lr;
    r.tokens = int64_t(o.batch_size) * t.spec.seq_len;
    r.loss_scale = u.loss_scale;
    r.skipped = u.skipped;
    return r;
  }

  double run_eval(Trial& t) {
    check_windows(t);
    return split_loss(t, corpus().validation(), t.eval_offsets, "validation");
  }

  // The mean loss over fixed windows of a split: data.eval_batches batches of the base
  // batch_size, each rank its rows, in chunks no larger than the trial's micro-batch.
  double split_loss(Trial& t, const TokenSplit& val, const std::vector<int64_t>& offsets, const char* what) {
    const int64_t batch_rows = base_.train.batch_size;
    const RowRange mine = rank_rows(batch_rows, group_rank(), group_size());
    const int64_t chunk = std::min(t.micro, mine.count());
    LossSum mine_sum;
    for (int64_t b = 0; b < base_.data.eval_batches; ++b) {
      const LossSum l = windows_loss(*t.model, val, offsets, b * batch_rows + mine.begin, b * batch_rows + mine.end,
                                     t.window, chunk);
      mine_sum.sum += l.sum;
      mine_sum.targets += l.targets;
    }
    const double total = group_sum(static_cast<double>(mine_sum.targets));
    if (total == 0) throw TrialError(std::string("the ") + what + " windows hold no target whose loss counts");
    return group_sum(mine_sum.sum) / total;
  }

  ExperimentConfig base_;
  std::shared_ptr<Collectives> group_;
  int cuda_device_;
  ModelSource source_;
  std::shared_ptr<const TokenCorpus> corpus_;
  std::shared_ptr<const TokenCorpus> retention_;
  FrozenCache frozen_;
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
