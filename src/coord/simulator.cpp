#include "mpitune/coord/simulator.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>

#include "mpitune/coord/factories.hpp"
#include "mpitune/coord/replay.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/final_eval.hpp"

namespace mpitune {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

// One virtual group: it trains step by step, or answers a checkpoint at once (writing one
// costs no virtual time).
struct VirtualGroup {
  std::unique_ptr<Trainable> trainable;
  enum class State { Idle, Training, Answering } state = State::Idle;
  SegmentMsg seg;
  Message answer;            // Answering: what it sends at next_time
  double next_time = kNever; // when its step in progress ends, or its answer goes out
  double segment_start = 0;
  bool stop_requested = false;
  bool evaluate_at_stop = false;
  int64_t steps_since_log = 0;
  double loss_sum = 0;
  // A resumed segment runs on its old segment's clock (CoordinatorCore::ResumedClock): `clock`
  // is when its current step ends on that clock.
  bool on_old_clock = false;
  double clock = 0;
  TrialId held = -1;  // the trial its trainable holds (-1: released)
  // Host cache (CheckpointMsg::cache), as the worker keeps it: paused trials' states.
  std::map<TrialId, std::pair<std::vector<uint8_t>, int64_t>> cache;  // trial -> (state, step)
  size_t cached_bytes = 0;
};

// A temporary folder for the checkpoints of a simulation, removed at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& given) : path_(given), owned_(given.empty()) {
    if (!owned_) return;
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/mpitune-sim-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw InfraError("cannot create a temporary folder for the simulation");
    path_ = tmpl;
  }
  ~ScratchDir() {
    if (!owned_) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool owned_;
};

}  // namespace

SimulationResult simulate(const SimulationSetup& setup) {
  MPITUNE_CHECK(setup.cfg && setup.make_trainable, "simulate needs a config and a trainable factory");
  const ExperimentConfig& cfg = *setup.cfg;
  auto scheduler = make_scheduler(cfg);
  auto searcher = make_searcher(cfg);
  MemoryStore store(setup.resume ? *setup.resume : ExperimentData{});
  ReplayStore replay_store(store);
  ScratchDir scratch(setup.checkpoint_root);

  CoordinatorOptions o = coordinator_options(cfg, setup.num_groups, 0, scratch.path());
  if (!setup.keep.empty()) o.keep = setup.keep;
  o.keep_root = scratch.path() + "/keep";
  ExperimentInfo info = experiment_info(cfg, setup.num_groups, 0);
  info.device_kind = "simulated";
  if (!setup.resume) store.begin(info, {});
  CoordinatorCore core(o, *scheduler, *searcher, replay_store);
  double now = 0;
  if (setup.resume) {
    replay_events(core, setup.resume->events);
    for (const auto& e : setup.resume->events) now = std::max(now, e.time);
  }
  replay_store.set_live(true);

  std::vector<VirtualGroup> groups(static_cast<size_t>(setup.num_groups));
  for (auto& g : groups) g.trainable = setup.make_trainable();
  auto cost = [&](TrialId t, int64_t s) { return setup.step_seconds ? setup.step_seconds(t, s) : 1.0; };

  SimulationResult result;
  auto answer = [&](VirtualGroup& g, Message m) {
    g.state = VirtualGroup::State::Answering;
    g.answer = std::move(m);
    g.next_time = now;
  };
  auto begin_training = [&](VirtualGroup& g, const SegmentMsg& seg) {
    g.state = VirtualGroup::State::Training;
    g.seg = seg;
    g.segment_start = now;
    g.stop_requested = false;
    g.evaluate_at_stop = false;
    g.steps_since_log = 0;
    g.loss_sum = 0;
    g.on_old_clock = false;
    if (auto c = core.take_resumed_clock(seg.trial)) {
      // Where step `at` ended on the old segment's clock, which began at c->start_step.
      const int64_t at = g.trainable->step();
      double t = c->since;
      for (int64_t j = c->start_step + 1; j <= at; ++j) t += cost(seg.trial, j);
      for (int64_t j = at + 1; j <= c->start_step; ++j) t -= cost(seg.trial, j);
      g.on_old_clock = true;
      g.clock = t + cost(seg.trial, at + 1);
      g.next_time = std::max(now, g.clock);
      return;
    }
    g.next_time = now + cost(seg.trial, g.trainable->step() + 1);
  };
  auto next_step_time = [&](VirtualGroup& g, TrialId trial, int64_t step) {
    if (!g.on_old_clock) return now + cost(trial, step + 1);
    g.clock += cost(trial, step + 1);
    return std::max(now, g.clock);
  };
  std::function<void(const std::vector<Outgoing>&)> apply;  // recursive: a clone's answer
  apply = [&](const std::vector<Outgoing>& outs) {
    apply_folder_changes(core);  // first, as the MPI shell does: an order may name a moved folder
    for (const auto& out : outs) {
      VirtualGroup& g = groups[out.group];
      if (auto* seg = std::get_if<SegmentMsg>(&out.message)) {
        std::string failure;
        StateReceivedMsg received;
        try {
          switch (seg->init) {
            case SegmentInit::Fresh:
              g.trainable->release();
              g.trainable->start(seg->trial, seg->hparams, seg->seed, seg->max_steps);
              break;
            case SegmentInit::Continue:
              g.trainable->update_hparams(seg->hparams);
              break;
            case SegmentInit::Resume:
              g.trainable->release();
              g.trainable->load_checkpoint(seg->checkpoint, seg->trial, seg->hparams);
              if (seg->source_trial >= 0)
                received = StateReceivedMsg{out.group, seg->trial, seg->source_trial, -1, g.trainable->step(), 0, 0,
                                            true, ""};
              break;
            case SegmentInit::Clone: {
              // The source's state as it is now (the source group serves it at once): the trial
              // its group trains, or a paused trial's copy in that group's host cache (moved when
              // the trial itself resumes), or else its checkpoint files.
              VirtualGroup& src = groups.at(seg->source_group);
              std::vector<uint8_t> bytes;
              int source_group = seg->source_group;
              auto cached = src.cache.find(seg->source_trial);
              if (src.held == seg->source_trial) {
                bytes = src.trainable->save_state();
              } else if (cached != src.cache.end()) {
                bytes = cached->second.first;
                if (seg->source_trial == seg->trial) {
                  src.cached_bytes -= bytes.size();
                  src.cache.erase(cached);
                }
              } else if (!seg->checkpoint.empty()) {
                source_group = -1;
              } else {
                throw InfraError("simulated clone: group " + std::to_string(seg->source_group) + " does not hold trial " +
                                 std::to_string(seg->source_trial));
              }
              g.trainable->release();
              if (source_group < 0) g.trainable->load_checkpoint(seg->checkpoint, seg->trial, seg->hparams);
              else g.trainable->load_state(bytes, seg->trial, seg->hparams);
              received = StateReceivedMsg{out.group, seg->trial, seg->source_trial, source_group,
                                          g.trainable->step(), static_cast<int64_t>(bytes.size()), 0, true, ""};
              break;
            }
          }
        } catch (const std::exception& e) {
          failure = e.what();
        }
        if (!failure.empty()) {
          g.held = -1;
          answer(g, TrialFailedMsg{out.group, seg->trial, seg->start, failure, 0});
          continue;
        }
        g.held = seg->trial;
        SegmentMsg effective = *seg;
        if (seg->init == SegmentInit::Clone)  // a newer state shifts the segment's end
          effective.stop = std::min(seg->max_steps, seg->stop + g.trainable->step() - seg->start);
        begin_training(g, effective);
        if (received.trial >= 0) apply(core.handle(out.group, received, now));
      } else if (auto* stop = std::get_if<StopTrialMsg>(&out.message)) {
        if (g.state == VirtualGroup::State::Training && g.seg.trial == stop->trial) {
          g.stop_requested = true;
          g.evaluate_at_stop |= stop->evaluate;
        }
      } else if (auto* f = std::get_if<FinalEvalMsg>(&out.message)) {
        // As the worker does (worker.cpp final_eval), in no virtual time.
        FinalEvalDoneMsg done;
        done.group = out.group;
        done.label = f->label;
        done.trial = f->trial;
        try {
          run_final_eval(*g.trainable, *f, g.seg.trial, done);  // it holds the trial it last trained
        } catch (const std::exception& e) {
          done.ok = false;
          done.reason = e.what();
        }
        g.trainable->release();
        g.held = -1;
        answer(g, std::move(done));
      } else if (auto* ckpt = std::get_if<CheckpointMsg>(&out.message)) {
        const int64_t step = g.trainable->step();
        try {
          int64_t cached = 0;
          if (ckpt->cache) {
            auto bytes = g.trainable->save_state();
            auto old = g.cache.find(ckpt->trial);
            const size_t others = g.cached_bytes - (old != g.cache.end() ? old->second.first.size() : 0);
            if (others + bytes.size() <= static_cast<size_t>(cfg.scheduler.pbt_host_cache_mb * 1024 * 1024)) {
              g.cached_bytes = others + bytes.size();
              cached = static_cast<int64_t>(bytes.size());
              g.cache[ckpt->trial] = {std::move(bytes), step};
            }
          }
          g.trainable->save_checkpoint(ckpt->dir);
          g.trainable->release();
          g.held = -1;
          answer(g, CheckpointDoneMsg{out.group, ckpt->trial, step, 0, cached});
        } catch (const std::exception& e) {
          g.trainable->release();
          g.held = -1;
          answer(g, TrialFailedMsg{out.group, ckpt->trial, step, std::string("checkpoint failed: ") + e.what(), 0});
        }
      } else if (auto* rel = std::get_if<ReleaseStateMsg>(&out.message)) {
        if (auto it = g.cache.find(rel->trial); it != g.cache.end()) {
          g.cached_bytes -= it->second.first.size();
          g.cache.erase(it);
        }
      } else if (std::holds_alternative<SendStateMsg>(out.message)) {
        // Served when the target's Clone segment is applied (same virtual time).
      } else if (std::holds_alternative<ShutdownMsg>(out.message)) {
        g.state = VirtualGroup::State::Idle;
        g.next_time = kNever;
      }
    }
    apply_folder_changes(core);
  };

  apply(core.begin_job(now, setup.num_groups));
  for (int i = 0; i < setup.num_groups; ++i) apply(core.handle(i, ReadyMsg{i}, now));
  auto crash_due = [&] { return setup.crash_after_events >= 0 && core.events_logged() >= setup.crash_after_events; };
  while (!core.done()) {
    if (crash_due()) {  // as a kill -9: nothing more is written, nothing is cleaned up
      result.crashed = true;
      result.data = store.data();
      result.elapsed = now;
      return result;
    }
    // The group whose event comes first (ties: the lowest group, for determinism).
    int next = -1;
    for (int i = 0; i < setup.num_groups; ++i)
      if (groups[i].state != VirtualGroup::State::Idle &&
          (next < 0 || groups[i].next_time < groups[next].next_time))
        next = i;
    MPITUNE_CHECK(next >= 0, "simulation stalled: no group is busy but the coordinator is not done");
    VirtualGroup& g = groups[next];
    now = g.next_time;
    apply(core.tick(now));
    if (g.state == VirtualGroup::State::Answering) {
      g.state = VirtualGroup::State::Idle;
      g.next_time = kNever;
      apply(core.handle(next, g.answer, now));
      continue;
    }
    if (g.state != VirtualGroup::State::Training) continue;  // the tick shut it down

    const TrialId trial = g.seg.trial;
    StepResult r;
    std::string failure;
    try {
      r = g.trainable->train_step();
      if (!std::isfinite(r.loss)) failure = "non-finite training loss";
    } catch (const std::exception& e) {
      failure = e.what();
    }
    ++result.steps;
    const int64_t step = g.trainable->step();
    if (!failure.empty()) {
      g.trainable->release();
      g.held = -1;
      g.state = VirtualGroup::State::Idle;
      g.next_time = kNever;
      apply(core.handle(next, TrialFailedMsg{next, trial, step, failure, now - g.segment_start}, now));
      continue;
    }
    g.loss_sum += r.loss;
    ++g.steps_since_log;
    if (step < g.seg.stop && !g.stop_requested) {
      // The worker's reporting rule (worker.cpp): a report every log_interval steps, and an
      // evaluation (in the same report) every eval_interval steps.
      const bool eval_due = cfg.train.eval_interval > 0 && step % cfg.train.eval_interval == 0;
      if (eval_due || step % cfg.train.log_interval == 0) {
        ReportMetrics m;
        m.train_loss = g.loss_sum / g.steps_since_log;
        m.eval_loss = eval_due ? g.trainable->evaluate() : std::numeric_limits<double>::quiet_NaN();
        m.retention_loss = eval_due ? g.trainable->evaluate_retention() : std::numeric_limits<double>::quiet_NaN();
        g.loss_sum = 0, g.steps_since_log = 0;
        apply(core.handle(next, ReportMsg{next, trial, step, m}, now));
      }
      if (g.state == VirtualGroup::State::Training && g.seg.trial == trial)
        g.next_time = next_step_time(g, trial, step);
      continue;
    }
    SegmentDoneMsg done;
    done.group = next;
    done.trial = trial;
    done.step = step;
    done.metrics.train_loss = g.steps_since_log ? g.loss_sum / g.steps_since_log : r.loss;
    const bool evaluate = !g.stop_requested || g.evaluate_at_stop;
    done.metrics.eval_loss = evaluate ? g.trainable->evaluate() : std::numeric_limits<double>::quiet_NaN();
    done.metrics.retention_loss = evaluate ? g.trainable->evaluate_retention() : std::numeric_limits<double>::quiet_NaN();
    done.seconds = now - g.segment_start;
    done.interrupted = g.stop_requested;
    g.state = VirtualGroup::State::Idle;
    g.next_time = kNever;
    apply(core.handle(next, done, now));
  }
  core.finish(now);
  apply({});  // the folders finish() released
  result.data = store.data();
  result.elapsed = now;
  result.kept = core.kept();
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(o.keep_root, ec)) result.kept_folders.insert(e.path().filename());
  return result;
}

}  // namespace mpitune
