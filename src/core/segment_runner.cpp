// One segment's training loop (segment_runner.hpp says what and for whom).
#include "mpitune/core/segment_runner.hpp"

#include <cmath>
#include <limits>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

constexpr double kNoLoss = std::numeric_limits<double>::quiet_NaN();

}  // namespace

SegmentRunner::SegmentRunner(const TrainOptions& train, Trainable& trainable, SegmentPort& port)
    : train_(train), trainable_(trainable), port_(port) {}

void SegmentRunner::begin(int group, const SegmentMsg& seg, double started, int64_t trial_tokens) {
  group_ = group;
  seg_ = seg;
  running_ = true;
  stop_requested_ = false;
  evaluate_at_stop_ = false;
  trained_last_ = trained_any_ = false;
  started_ = started;
  interval_started_ = port_.now();
  loss_sum_ = 0;
  loss_count_ = 0;
  interval_tokens_ = 0;
  trial_tokens_ = trial_tokens;
  retention_loss_ = kNoLoss;
  last_ = StepResult{};
}

void SegmentRunner::request_stop(bool evaluate) {
  stop_requested_ = true;
  evaluate_at_stop_ |= evaluate;
}

SegmentRunner::Outcome SegmentRunner::advance() {
  MPITUNE_CHECK(running_, "advance() of a segment that has ended");
  trained_last_ = false;
  if (stop_requested_ || trainable_.step() >= seg_.stop) return finish();
  std::optional<std::string> err = error_text_of([&] {
    last_ = trainable_.train_step();
    if (!std::isfinite(last_.loss))
      throw TrialError("non-finite training loss (" + std::to_string(last_.loss) + ") at step " +
                       std::to_string(trainable_.step()));
  });
  if (!err) err = port_.injected_failure(trainable_.step());
  if (auto reason = port_.agree_failure(err)) return fail(trainable_.step(), *reason);
  trained_last_ = trained_any_ = true;
  const int64_t step = trainable_.step();
  loss_sum_ += last_.loss;
  ++loss_count_;
  interval_tokens_ += last_.tokens;
  trial_tokens_ += last_.tokens;
  if (step >= seg_.stop) return finish();  // the last step's report is the SegmentDone

  const bool eval_due = train_.eval_interval > 0 && step % train_.eval_interval == 0;
  const bool log_due = step % train_.log_interval == 0;
  if (!eval_due && !log_due) return Outcome::Trained;
  double eval_loss = kNoLoss;
  if (eval_due)
    if (auto reason = evaluate(eval_loss)) return fail(step, *reason);
  port_.send(ReportMsg{group_, seg_.trial, step, metrics_now(eval_loss)});
  loss_sum_ = 0;
  loss_count_ = 0;
  interval_tokens_ = 0;
  interval_started_ = port_.now();
  return Outcome::Trained;
}

std::optional<std::string> SegmentRunner::evaluate(double& eval_loss) {
  port_.progress();
  const std::optional<std::string> err = error_text_of([&] {
    eval_loss = trainable_.evaluate();
    retention_loss_ = trainable_.evaluate_retention();
  });
  return port_.agree_failure(err);
}

ReportMetrics SegmentRunner::metrics_now(double eval_loss) {
  ReportMetrics m;
  // Between reports the mean of the steps since the last one; right after a report the last
  // step's loss; a segment that trained no step (it began at its stop) measured none.
  m.train_loss = loss_count_ ? loss_sum_ / static_cast<double>(loss_count_) : trained_any_ ? last_.loss : kNoLoss;
  m.eval_loss = eval_loss;
  m.retention_loss = std::isnan(eval_loss) ? kNoLoss : retention_loss_;
  m.lr = last_.lr;
  m.tokens = trial_tokens_;
  // Tokens a second; steps a second for trainables that count no tokens (synthetic).
  const double dt = port_.now() - interval_started_;
  const double work = interval_tokens_ > 0 ? static_cast<double>(interval_tokens_) : static_cast<double>(loss_count_);
  m.throughput = dt > 0 ? work / dt : 0;
  m.loss_scale = last_.loss_scale;
  return m;
}

SegmentRunner::Outcome SegmentRunner::fail(int64_t step, const std::string& reason) {
  running_ = false;
  trainable_.release();
  port_.send(TrialFailedMsg{group_, seg_.trial, step, reason, elapsed()});
  return Outcome::Failed;
}

// The segment's end: evaluated unless a stop said not to, then SegmentDone.
SegmentRunner::Outcome SegmentRunner::finish() {
  double eval_loss = kNoLoss;
  if (!stop_requested_ || evaluate_at_stop_)
    if (auto reason = evaluate(eval_loss)) return fail(trainable_.step(), *reason);
  SegmentDoneMsg done;
  done.group = group_;
  done.trial = seg_.trial;
  done.step = trainable_.step();
  done.metrics = metrics_now(eval_loss);
  done.seconds = elapsed();
  done.interrupted = stop_requested_;
  running_ = false;
  port_.send(done);
  return Outcome::Done;
}

}  // namespace mpitune
