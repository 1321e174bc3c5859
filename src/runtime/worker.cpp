#include "mpitune/runtime/worker.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs `fn`, turning any exception into a reason text (a trial failure, not a crash).
template <class F>
std::optional<std::string> guarded(F&& fn) {
  try {
    fn();
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

}  // namespace

Worker::Worker(const ExperimentConfig& cfg, const Topology& topo, GroupControl& control, Channel& channel,
               Trainable& trainable)
    : cfg_(cfg), topo_(topo), control_(control), channel_(channel), trainable_(trainable) {}

void Worker::send(const Message& m) {
  if (topo_.is_leader()) channel_.send(0, m);
}

void Worker::run() {
  send(ReadyMsg{topo_.group});
  for (;;) {
    std::vector<uint8_t> order;
    if (topo_.is_leader()) order = encode(channel_.wait(0).message);
    control_.broadcast(order);
    const Message m = decode(order);
    if (std::holds_alternative<ShutdownMsg>(m)) break;
    if (auto* seg = std::get_if<SegmentMsg>(&m)) {
      run_segment(*seg);
      continue;
    }
    // A StopTrial that crossed a SegmentDone in flight: the segment it meant is over already.
    if (std::holds_alternative<StopTrialMsg>(m)) continue;
    throw InfraError(std::string("worker received unexpected ") + message_name(m));
  }
  trainable_.release();
}

// Leader only: has the coordinator asked to stop `trial`? Only StopTrial can arrive while a
// segment runs (orders come only to idle groups), so anything else is a protocol error.
bool Worker::stop_requested(TrialId trial) {
  bool stop = false;
  while (auto e = channel_.poll(0)) {
    auto* s = std::get_if<StopTrialMsg>(&e->message);
    if (!s) throw InfraError(std::string("worker received ") + message_name(e->message) + " during a segment");
    stop |= s->trial == trial;
  }
  return stop;
}

void Worker::run_segment(const SegmentMsg& seg) {
  const auto t0 = std::chrono::steady_clock::now();
  auto fail = [&](int64_t step, const std::string& reason) {
    trainable_.release();
    current_trial_ = -1;
    send(TrialFailedMsg{topo_.group, seg.trial, step, reason, seconds_since(t0)});
  };
  // Every rank reaches each agreement point, so a failure on one rank never leaves the others
  // waiting inside a collective of the next step.
  auto agree_failure = [&](const std::optional<std::string>& err) -> std::optional<std::string> {
    const int64_t failed_rank = control_.max(err ? control_.rank() + 1 : 0);
    if (failed_rank == 0) return std::nullopt;
    const std::string text = control_.text_to_leader(err ? *err : "", static_cast<int>(failed_rank - 1));
    return control_.size() > 1 ? "rank " + std::to_string(failed_rank - 1) + ": " + text : text;
  };

  // Initialise the trial's state on this group.
  std::optional<std::string> err;
  switch (seg.init) {
    case SegmentInit::Fresh:
      err = guarded([&] {
        trainable_.release();
        trial_tokens_ = 0;
        trainable_.start(seg.trial, seg.hparams, seg.seed, seg.max_steps);
      });
      break;
    case SegmentInit::Continue:
      if (current_trial_ != seg.trial || trainable_.step() != seg.start)
        throw InfraError("asked to continue trial " + std::to_string(seg.trial) + " at step " +
                         std::to_string(seg.start) + " but this group holds trial " +
                         std::to_string(current_trial_) + " at step " + std::to_string(trainable_.step()));
      break;
    case SegmentInit::Resume:
    case SegmentInit::Clone:
      err = std::string("segment init '") + segment_init_name(seg.init) + "' is not supported by this build";
      break;
  }
  if (auto reason = agree_failure(err)) return fail(seg.start, *reason);
  current_trial_ = seg.trial;

  const int64_t log_every = cfg_.train.log_interval;
  const int64_t eval_every = cfg_.train.eval_interval;
  double loss_sum = 0;
  int64_t loss_count = 0, interval_tokens = 0;
  auto interval_t0 = std::chrono::steady_clock::now();
  StepResult last;
  bool interrupted = false;

  auto metrics_now = [&](double eval_loss) {
    ReportMetrics m;
    m.train_loss = loss_count ? loss_sum / loss_count : last.loss;
    m.eval_loss = eval_loss;
    m.lr = last.lr;
    m.tokens = trial_tokens_;
    const double dt = seconds_since(interval_t0);
    m.throughput = dt > 0 ? (interval_tokens > 0 ? interval_tokens : loss_count) / dt : 0;
    m.loss_scale = last.loss_scale;
    return m;
  };

  while (trainable_.step() < seg.stop) {
    const int64_t stop_flag = topo_.is_leader() && stop_requested(seg.trial) ? 1 : 0;
    err = guarded([&] {
      last = trainable_.train_step();
      if (!std::isfinite(last.loss))
        throw TrialError("non-finite training loss (" + std::to_string(last.loss) + ") at step " +
                         std::to_string(trainable_.step()));
    });
    if (auto reason = agree_failure(err)) return fail(trainable_.step(), *reason);
    if (control_.max(stop_flag)) {
      interrupted = true;
      break;
    }
    const int64_t step = trainable_.step();
    loss_sum += last.loss;
    ++loss_count;
    interval_tokens += last.tokens;
    trial_tokens_ += last.tokens;

    const bool eval_due = eval_every > 0 && step % eval_every == 0 && step < seg.stop;
    const bool log_due = step % log_every == 0 && step < seg.stop;
    if (!eval_due && !log_due) continue;
    double eval_loss = std::numeric_limits<double>::quiet_NaN();
    if (eval_due) {
      err = guarded([&] { eval_loss = trainable_.evaluate(); });
      if (auto reason = agree_failure(err)) return fail(step, *reason);
    }
    send(ReportMsg{topo_.group, seg.trial, step, metrics_now(eval_loss)});
    loss_sum = 0, loss_count = 0, interval_tokens = 0;
    interval_t0 = std::chrono::steady_clock::now();
  }

  // The segment's end: evaluate (skipped when interrupted: the budget is spent) and report.
  double eval_loss = std::numeric_limits<double>::quiet_NaN();
  if (!interrupted) {
    err = guarded([&] { eval_loss = trainable_.evaluate(); });
    if (auto reason = agree_failure(err)) return fail(trainable_.step(), *reason);
  }
  SegmentDoneMsg done;
  done.group = topo_.group;
  done.trial = seg.trial;
  done.step = trainable_.step();
  done.metrics = metrics_now(eval_loss);
  done.seconds = seconds_since(t0);
  done.interrupted = interrupted;
  send(done);
}

}  // namespace mpitune
