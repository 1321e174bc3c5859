#include "mpitune/runtime/worker.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "mpitune/comm/mpi_session.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/final_eval.hpp"
#include "mpitune/core/segment_runner.hpp"

namespace mpitune {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Several messages in one buffer: [u32 length][encoded message]...
std::vector<uint8_t> encode_list(const std::vector<Message>& ms) {
  std::vector<uint8_t> out;
  for (const auto& m : ms) {
    const auto bytes = encode(m);
    const uint32_t n = static_cast<uint32_t>(bytes.size());
    const auto* p = reinterpret_cast<const uint8_t*>(&n);
    out.insert(out.end(), p, p + 4);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

std::vector<Message> decode_list(const std::vector<uint8_t>& buf) {
  std::vector<Message> out;
  for (size_t pos = 0; pos + 4 <= buf.size();) {
    uint32_t n = 0;
    std::memcpy(&n, buf.data() + pos, 4);
    pos += 4;
    MPITUNE_CHECK(pos + n <= buf.size(), "truncated order list");
    out.push_back(decode(buf.data() + pos, n));
    pos += n;
  }
  return out;
}

int64_t folder_bytes(const std::string& dir) {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file(ec)) total += static_cast<int64_t>(e.file_size(ec));
  return total;
}

}  // namespace

// The segment runner's port on an MPI group: the leader sends, every rank agrees on failures
// with one reduction over the group (the first failing rank's text reaches the leader), the
// steady clock, and the heartbeat's progress mark.
class Worker::WorkerSegmentPort final : public SegmentPort {
 public:
  // Its clock counts from `t0`, the segment order's arrival.
  WorkerSegmentPort(Worker& w, std::chrono::steady_clock::time_point t0) : w_(w), t0_(t0) {}
  double now() override { return seconds_since(t0_); }
  void send(const Message& m) override { w_.send(m); }
  std::optional<std::string> agree_failure(const std::optional<std::string>& err) override {
    return w_.agree_failure(err);
  }
  void progress() override { w_.progress(); }

 private:
  Worker& w_;
  std::chrono::steady_clock::time_point t0_;
};

// Every rank reaches each agreement point, so a failure on one rank never leaves the others
// waiting inside a collective of the next step.
std::optional<std::string> Worker::agree_failure(const std::optional<std::string>& err) {
  const int64_t failed_rank = control_.max(err ? control_.rank() + 1 : 0);
  if (failed_rank == 0) return std::nullopt;
  const std::string text = control_.text_to_leader(err ? *err : "", static_cast<int>(failed_rank - 1));
  return control_.size() > 1 ? "rank " + std::to_string(failed_rank - 1) + ": " + text : text;
}

Worker::Worker(const ExperimentConfig& cfg, const Topology& topo, GroupControl& control, Channel& channel,
               StateTransfer& transfer, Trainable& trainable, HeartbeatMode heartbeat)
    : cfg_(cfg),
      topo_(topo),
      control_(control),
      channel_(channel),
      transfer_(transfer),
      trainable_(trainable),
      heartbeat_thread_(heartbeat == HeartbeatMode::Thread ||
                        (heartbeat == HeartbeatMode::Auto && MpiSession::threads_multiple())),
      heartbeat_interval_s_(heartbeat_interval_s(cfg.experiment.heartbeat_timeout_s)),
      last_sent_(std::chrono::steady_clock::now()) {}

Worker::~Worker() = default;

void Worker::send(const Message& m) {
  if (!topo_.is_leader()) return;
  channel_.send(0, m);
  last_sent_ = std::chrono::steady_clock::now();
}

void Worker::progress() {
  if (!topo_.is_leader() || heartbeat_interval_s_ <= 0) return;
  if (heartbeat_) {
    heartbeat_->busy();
  } else if (seconds_since(last_sent_) >= heartbeat_interval_s_) {
    send(HeartbeatMsg{topo_.group});
  }
}

void Worker::waiting_for_orders() {
  if (heartbeat_) heartbeat_->idle();
}

void Worker::run() {
  if (topo_.is_leader() && heartbeat_thread_ && heartbeat_interval_s_ > 0) {
    // A leader stuck for longer than the coordinator waits is as good as dead: the thread beats
    // only while the last progress mark is younger than the timeout (heartbeat.hpp).
    heartbeat_ = std::make_unique<Heartbeat>(std::chrono::duration<double>(heartbeat_interval_s_),
                                             std::chrono::duration<double>(cfg_.experiment.heartbeat_timeout_s),
                                             [this] { channel_.send(0, HeartbeatMsg{topo_.group}); });
  }
  send(ReadyMsg{topo_.group});
  for (;;) {
    std::vector<uint8_t> order;
    waiting_for_orders();
    if (topo_.is_leader()) order = encode(channel_.wait(0).message);
    control_.broadcast(order);
    const Message m = decode(order);
    if (std::holds_alternative<ShutdownMsg>(m)) break;
    progress();
    if (auto* seg = std::get_if<SegmentMsg>(&m)) {
      run_segment(*seg);
    } else if (auto* ckpt = std::get_if<CheckpointMsg>(&m)) {
      save_checkpoint(*ckpt);
    } else if (auto* s = std::get_if<SendStateMsg>(&m)) {
      serve_state(*s);  // the group is between segments but may still hold the source
    } else if (auto* f = std::get_if<FinalEvalMsg>(&m)) {
      final_eval(*f);
    } else if (auto* p = std::get_if<PreemptMsg>(&m)) {
      preempt(*p, std::nullopt);  // between segments the group may still hold the trial
    } else if (auto* r = std::get_if<ReleaseStateMsg>(&m)) {
      uncache(r->trial);
    } else if (!std::holds_alternative<StopTrialMsg>(m)) {
      // (A StopTrial that crossed a SegmentDone in flight: the segment it meant is over.)
      throw InfraError(std::string("worker received unexpected ") + message_name(m));
    }
  }
  heartbeat_.reset();  // joined: no beat after the last message
  trainable_.release();
}

std::vector<Message> Worker::step_boundary_orders() {
  std::vector<Message> orders;
  progress();
  if (topo_.is_leader()) {
    while (auto e = channel_.poll(0)) {
      const bool control = std::holds_alternative<StopTrialMsg>(e->message) ||
                           std::holds_alternative<SendStateMsg>(e->message) ||
                           std::holds_alternative<PreemptMsg>(e->message) ||
                           std::holds_alternative<ReleaseStateMsg>(e->message);
      if (!control)
        throw InfraError(std::string("worker received ") + message_name(e->message) + " during a segment");
      orders.push_back(std::move(e->message));
    }
    // Only at a report boundary, as a Preempt's checkpoint (run_segment says why).
    if (periodic_.every_s > 0 && current_trial_ >= 0 && at_report_boundary_ &&
        seconds_since(periodic_.last) >= periodic_.every_s)
      orders.push_back(CheckpointMsg{current_trial_, periodic_.prefix + std::to_string(trainable_.step())});
  }
  if (control_.size() == 1) return orders;
  std::vector<uint8_t> buf = encode_list(orders);
  control_.broadcast(buf);
  return decode_list(buf);
}

// Every rank sends its share to the same rank of the target group. A group that no longer holds
// the trial says so (ok = false), so the target never waits for a state that will not come.
void Worker::serve_state(const SendStateMsg& s) {
  StateTransfer::Payload p;
  std::optional<std::string> err;
  if (current_trial_ == s.trial) {
    err = error_text_of([&] {
      p.bytes = trainable_.save_state();
      p.step = trainable_.step();
    });
    p.ok = !err;
  } else {
    p = from_cache(s.trial, /*take=*/s.trial == s.target_trial);  // moved when the trial itself resumes
  }
  // All ranks of the source group agree, so the target's ranks all see the same `ok`.
  p.ok = control_.max(p.ok ? 0 : 1) == 0;
  if (!p.ok) p.bytes.clear();
  transfer_.send(s.target_group, s.target_trial, p);
}

void Worker::run_segment(SegmentMsg seg) {
  const auto t0 = std::chrono::steady_clock::now();
  auto fail = [&](int64_t step, const std::string& reason) {
    trainable_.release();
    current_trial_ = -1;
    send(TrialFailedMsg{topo_.group, seg.trial, step, reason, seconds_since(t0)});
  };

  // Initialise the trial's state on this group.
  std::optional<std::string> err;
  std::optional<StateReceivedMsg> received;
  switch (seg.init) {
    case SegmentInit::Fresh:
      err = error_text_of([&] {
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
      if (seg.hparams != current_hparams_) err = error_text_of([&] { trainable_.update_hparams(seg.hparams); });
      break;
    case SegmentInit::Resume: {
      const auto r0 = std::chrono::steady_clock::now();
      err = load_segment_checkpoint(seg);
      if (seg.source_trial >= 0 && !err)  // a PBT clone of a paused trial, through its checkpoint
        received = StateReceivedMsg{topo_.group, seg.trial, seg.source_trial, -1, seg.start,
                                    topo_.is_leader() ? folder_bytes(seg.checkpoint) : 0, seconds_since(r0), true, ""};
      break;
    }
    case SegmentInit::Clone: {
      // The source's ranks send at their next step boundary; it may be a newer step than
      // `start`, so the segment's end moves with it.
      const auto r0 = std::chrono::steady_clock::now();
      StateTransfer::Payload p;
      if (seg.source_group == topo_.group) {
        // A paused trial's copy in this group's own host cache.
        p = from_cache(seg.source_trial, /*take=*/seg.source_trial == seg.trial);
        p.ok = control_.max(p.ok ? 0 : 1) == 0;
      } else {
        p = transfer_.recv(seg.source_group, seg.trial);
      }
      const int64_t bytes = control_.sum(static_cast<int64_t>(p.bytes.size()));
      received = StateReceivedMsg{topo_.group, seg.trial, seg.source_trial, seg.source_group, p.step, bytes, 0, p.ok, ""};
      if (p.ok) {
        err = error_text_of([&] { trainable_.load_state(p.bytes, seg.trial, seg.hparams); });
        seg.stop = std::min(seg.max_steps, seg.stop + trainable_.step() - seg.start);
      } else if (!seg.checkpoint.empty()) {
        // The cached copy is gone: its checkpoint files, as a Resume.
        err = load_segment_checkpoint(seg);
        received->ok = true;
        received->source_group = -1;
        received->step = seg.start;
        received->bytes = topo_.is_leader() ? folder_bytes(seg.checkpoint) : 0;
      } else {
        // The source was gone: go on from our own state with the explored hyperparameters.
        received->reason = "the source group no longer held trial " + std::to_string(seg.source_trial);
        if (current_trial_ != seg.trial) {
          err = "clone failed and this group does not hold trial " + std::to_string(seg.trial);
        } else {
          err = error_text_of([&] { trainable_.update_hparams(seg.hparams); });
          seg.stop = std::min(seg.max_steps, trainable_.step() + (seg.stop - seg.start));
        }
        received->step = trainable_.step();
      }
      received->seconds = seconds_since(r0);
      break;
    }
  }
  if (auto reason = agree_failure(err)) return fail(seg.start, *reason);
  current_trial_ = seg.trial;
  current_hparams_ = seg.hparams;
  if (received) send(*received);
  periodic_ = Periodic{seg.checkpoint_every_s, seg.checkpoint_prefix, std::chrono::steady_clock::now()};
  struct EndPeriodic {  // no periodic checkpoint outside this segment, however it ends
    Periodic& p;
    ~EndPeriodic() { p.every_s = 0; }
  } end_periodic{periodic_};

  WorkerSegmentPort port(*this, t0);
  SegmentRunner runner(cfg_.train, trainable_, port);
  runner.begin(topo_.group, seg, /*started=*/0, trial_tokens_);
  bool preempted = false;  // the segment is abandoned: Preempted was sent, no SegmentDone

  // A Preempt of the running trial waits for the next report boundary (at most log_interval
  // steps): a checkpoint taken there resumes with the same report intervals, so the resumed
  // curve is the uninterrupted one, training losses included.
  std::optional<PreemptMsg> deferred_preempt;
  while (runner.running()) {
    at_report_boundary_ = runner.at_report_boundary();
    for (const Message& order : step_boundary_orders()) {
      // In arrival order: a SendState before the Preempt still gets the state, one after it
      // hears that the group no longer holds the trial.
      if (auto* p = std::get_if<PreemptMsg>(&order)) {
        if (p->trial == seg.trial && !at_report_boundary_ && !preempted) {
          deferred_preempt = *p;
          continue;
        }
        preempt(*p, preempted ? std::nullopt : std::optional(t0));  // the compute goes with the first
        preempted = true;
        continue;
      }
      if (auto* s = std::get_if<StopTrialMsg>(&order); s && s->trial == seg.trial) runner.request_stop(s->evaluate);
      if (auto* s = std::get_if<SendStateMsg>(&order)) serve_state(*s);
      if (auto* c = std::get_if<CheckpointMsg>(&order); c && !preempted) periodic_checkpoint(*c);
      if (auto* r = std::get_if<ReleaseStateMsg>(&order)) uncache(r->trial);
    }
    if (deferred_preempt && !preempted && runner.at_report_boundary()) {
      preempt(*deferred_preempt, t0);
      preempted = true;
    }
    if (preempted) return;
    if (runner.advance() == SegmentRunner::Outcome::Failed) {
      current_trial_ = -1;
      return;
    }
  }
  trial_tokens_ = runner.trial_tokens();
  // The segment ended before a report boundary came: the group now holds the trial at its
  // segment's end, which is where the Preempt's checkpoint is taken.
  if (deferred_preempt && !preempted) preempt(*deferred_preempt, std::nullopt);
}

// A final evaluation (final_eval.hpp). Every rank takes part in each call (the sharded model's
// collectives), and a failure on any rank is the group's.
void Worker::final_eval(const FinalEvalMsg& f) {
  const auto t0 = std::chrono::steady_clock::now();
  FinalEvalDoneMsg done;
  done.group = topo_.group;
  done.label = f.label;
  done.trial = f.trial;
  std::optional<std::string> err = error_text_of([&] { run_final_eval(trainable_, f, current_trial_, done); });
  const int64_t failed_rank = control_.max(err ? control_.rank() + 1 : 0);
  trainable_.release();
  current_trial_ = -1;
  if (failed_rank) {
    done.ok = false;
    done.reason = control_.text_to_leader(err ? *err : "", static_cast<int>(failed_rank - 1));
    done.doc_loss_sums.clear();
    done.doc_tokens.clear();
  }
  done.seconds = seconds_since(t0);
  send(done);
}

void Worker::preempt(const PreemptMsg& p, std::optional<std::chrono::steady_clock::time_point> since) {
  const auto t0 = since ? *since : std::chrono::steady_clock::now();
  PreemptedMsg out;
  out.group = topo_.group;
  out.trial = p.trial;
  if (current_trial_ != p.trial) {
    // Every rank holds the same trial (they carry out the same orders), so they all refuse
    // without a word to each other. The state stays: a Preempt for the held trial may follow.
    out.ok = false;
    out.reason = current_trial_ < 0 ? "this group holds no trial"
                                    : "this group holds trial " + std::to_string(current_trial_);
    out.seconds = seconds_since(t0);
    send(out);
    return;
  }
  progress();
  const CheckpointWrite w = write_checkpoint(p.dir, std::nullopt);
  out.step = w.step;
  out.ok = !w.failure;
  if (w.failure)
    out.reason = "checkpoint failed: " +
                 (control_.size() > 1 ? "rank " + std::to_string(w.failure->first) + ": " : std::string()) +
                 w.failure->second;
  out.seconds = seconds_since(t0);
  send(out);
}

void Worker::periodic_checkpoint(const CheckpointMsg& c) {
  const auto t0 = std::chrono::steady_clock::now();
  progress();
  const CheckpointWrite w = write_checkpoint(c.dir, std::nullopt, /*keep=*/true);
  periodic_.last = std::chrono::steady_clock::now();
  // A failed one changes nothing: the trial goes on, and resumes from an older checkpoint.
  if (w.failure) {
    if (topo_.is_leader())
      std::fprintf(stderr, "mpitune: warning: group %d: periodic checkpoint of trial %lld failed: %s\n", topo_.group,
                   static_cast<long long>(c.trial), w.failure->second.c_str());
    return;
  }
  send(PeriodicCheckpointMsg{topo_.group, c.trial, w.step, c.dir, seconds_since(t0)});
}

Worker::CheckpointWrite Worker::write_checkpoint(const std::string& dir, std::optional<std::string> err, bool keep) {
  if (!err) err = error_text_of([&] { trainable_.save_checkpoint(dir); });
  // Every rank must have written its part before the checkpoint counts as complete.
  const int64_t failed_rank = control_.max(err ? control_.rank() + 1 : 0);
  CheckpointWrite w;
  w.step = trainable_.step();
  if (!keep) {
    trainable_.release();
    current_trial_ = -1;
  }
  if (failed_rank)
    w.failure.emplace(failed_rank - 1, control_.text_to_leader(err ? *err : "", static_cast<int>(failed_rank - 1)));
  return w;
}

void Worker::save_checkpoint(const CheckpointMsg& c) {
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<std::string> not_held;
  if (current_trial_ != c.trial)
    not_held = "asked to checkpoint trial " + std::to_string(c.trial) + " but this group holds trial " +
               std::to_string(current_trial_);
  const bool cached = c.cache && !not_held && cache_state(c.trial);
  const int64_t cached_bytes = cached ? control_.sum(static_cast<int64_t>(cache_.at(c.trial).bytes.size())) : 0;
  const CheckpointWrite w = write_checkpoint(c.dir, not_held);
  if (w.failure) {
    if (cached) uncache(c.trial);
    send(TrialFailedMsg{topo_.group, c.trial, w.step, "checkpoint failed: " + w.failure->second, seconds_since(t0)});
    return;
  }
  send(CheckpointDoneMsg{topo_.group, c.trial, w.step, seconds_since(t0), cached_bytes});
}

bool Worker::cache_state(TrialId trial) {
  CachedState entry;
  entry.step = trainable_.step();
  const std::optional<std::string> err = error_text_of([&] { entry.bytes = trainable_.save_state(); });
  const size_t budget = static_cast<size_t>(cfg_.scheduler.pbt_host_cache_mb * 1024 * 1024);
  auto old = cache_.find(trial);
  const size_t others = cached_bytes_ - (old != cache_.end() ? old->second.bytes.size() : 0);
  const bool fits = !err && others + entry.bytes.size() <= budget;
  // Every rank keeps its share, or none does: a SendState must find it on all of them.
  if (control_.max(fits ? 0 : 1) != 0) return false;
  uncache(trial);
  cached_bytes_ += entry.bytes.size();
  cache_[trial] = std::move(entry);
  return true;
}

std::optional<std::string> Worker::load_segment_checkpoint(const SegmentMsg& seg) {
  return error_text_of([&] {
    trainable_.release();
    trainable_.load_checkpoint(seg.checkpoint, seg.trial, seg.hparams);
    if (trainable_.step() != seg.start)
      throw TrialError("checkpoint " + seg.checkpoint + " is at step " + std::to_string(trainable_.step()) +
                       ", expected " + std::to_string(seg.start));
  });
}

StateTransfer::Payload Worker::from_cache(TrialId trial, bool take) {
  StateTransfer::Payload p;
  auto it = cache_.find(trial);
  if (it == cache_.end()) return p;  // ok = false
  p.ok = true;
  p.step = it->second.step;
  if (!take) {
    p.bytes = it->second.bytes;
    return p;
  }
  p.bytes = std::move(it->second.bytes);
  cached_bytes_ -= p.bytes.size();
  cache_.erase(it);
  return p;
}

void Worker::uncache(TrialId trial) {
  auto it = cache_.find(trial);
  if (it == cache_.end()) return;
  cached_bytes_ -= it->second.bytes.size();
  cache_.erase(it);
}

}  // namespace mpitune
