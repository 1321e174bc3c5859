#include "mpitune/coord/simulator.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "mpitune/coord/factories.hpp"
#include "mpitune/coord/replay.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/final_eval.hpp"
#include "mpitune/core/segment_runner.hpp"

namespace mpitune {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

// What a virtual group's segment runner sees: the virtual clock, an outbox the simulator hands
// to the coordinator after each runner call (a message handled at once could give the group its
// next order while the runner is still inside the call), trivial agreement (one rank), and the
// cost model's failure of this segment.
class VirtualPort final : public SegmentPort {
 public:
  explicit VirtualPort(const double& now) : now_(now) {}
  double now() override { return now_; }
  void send(const Message& m) override { outbox.push_back(m); }
  std::optional<std::string> agree_failure(const std::optional<std::string>& err) override { return err; }
  std::optional<std::string> injected_failure(int64_t step) override {
    if (step != fail_at) return std::nullopt;
    ++injected;
    return std::string("simulated failure (simulate.failure_probability)");
  }

  std::vector<Message> outbox;
  int64_t fail_at = -1;  // the step at which this segment fails (-1: it does not)
  int64_t injected = 0;

 private:
  const double& now_;
};

// One virtual group: it trains step by step through the segment runner the MPI worker uses,
// or answers an order at once (writing a checkpoint costs only the cost model's seconds).
struct VirtualGroup {
  VirtualGroup(int i, const TrainOptions& train, std::unique_ptr<Trainable> t, const double& now)
      : index(i), trainable(std::move(t)), port(now), runner(train, *trainable, port) {}
  int index;
  std::unique_ptr<Trainable> trainable;
  VirtualPort port;
  SegmentRunner runner;
  enum class State { Idle, Training, Answering } state = State::Idle;
  Message answer;            // Answering: what it sends at next_time
  double next_time = kNever; // when its step in progress ends, or its answer goes out
  // A StopTrial that came while a step ran: the group sees it at the step's end, as a real one
  // sees it at its next step boundary.
  std::optional<bool> stop_pending;  // evaluate?
  int64_t trial_tokens = 0;
  // A resumed segment runs on its old segment's clock (CoordinatorCore::ResumedClock): `clock`
  // is when its current step ends on that clock.
  bool on_old_clock = false;
  double clock = 0;
  TrialId held = -1;  // the trial its trainable holds (-1: released)
  // Cost model: the segment's step seconds before stragglers and jitter, and the step in
  // progress's seconds.
  double base_seconds = 1;
  double step_seconds = 0;
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

// Forwards to the store the coordinator writes to, counting its decisions.
class CountingStore : public ResultStore {
 public:
  explicit CountingStore(ResultStore& inner) : inner_(inner) {}
  int64_t decisions() const { return decisions_; }
  void begin(const ExperimentInfo& info, const std::vector<GroupRecord>& groups) override { inner_.begin(info, groups); }
  void upsert_trial(const TrialRecord& t) override { inner_.upsert_trial(t); }
  void append_metric(const MetricRecord& m) override { inner_.append_metric(m); }
  void append_decision(const DecisionRecord& d) override {
    ++decisions_;
    inner_.append_decision(d);
  }
  void append_transfer(const TransferRecord& t) override { inner_.append_transfer(t); }
  void set_summary(const SummaryRecord& s) override { inner_.set_summary(s); }
  void append_final(const FinalRecord& f, const std::vector<FinalDocumentRecord>& d) override { inner_.append_final(f, d); }
  void append_event(const EventRecord& e) override { inner_.append_event(e); }
  void set_segment(const SegmentRecord& s) override { inner_.set_segment(s); }
  void flush() override { inner_.flush(); }
  void close() override { inner_.close(); }

 private:
  ResultStore& inner_;
  int64_t decisions_ = 0;
};

}  // namespace

SimulationFigures simulation_figures(const SimulationResult& r, int num_groups) {
  SimulationFigures f;
  if (num_groups <= 0) return f;
  f.ideal_s = r.busy_seconds / num_groups;
  if (r.elapsed > 0) f.utilisation = r.busy_seconds / (num_groups * r.elapsed);
  if (f.ideal_s > 0) f.overhead = r.elapsed / f.ideal_s - 1;
  return f;
}

SimulationResult simulate(const SimulationSetup& setup) {
  MPITUNE_CHECK(setup.cfg && setup.make_trainable, "simulate needs a config and a trainable factory");
  const ExperimentConfig& cfg = *setup.cfg;
  auto scheduler = make_scheduler(cfg);
  auto searcher = make_searcher(cfg);
  MPITUNE_CHECK(!(setup.store && setup.resume), "simulate: a resumed simulation writes to memory only");
  MemoryStore store(setup.resume ? *setup.resume : ExperimentData{});
  CountingStore sink(setup.store ? *setup.store : static_cast<ResultStore&>(store));
  ReplayStore replay_store(sink);
  ScratchDir scratch(setup.checkpoint_root);
  const CostModel* cost_model = setup.cost_model;

  CoordinatorOptions o = coordinator_options(cfg, setup.num_groups, setup.start_time, scratch.path());
  if (!setup.keep.empty()) o.keep = setup.keep;
  o.keep_root = scratch.path() + "/keep";
  ExperimentInfo info = experiment_info(cfg, setup.num_groups, setup.start_time);
  info.device_kind = "simulated";
  if (setup.describe) setup.describe(info);
  std::vector<GroupRecord> group_rows;
  if (setup.store)
    for (int i = 0; i < setup.num_groups; ++i) {
      // The world ranks the group would have under mpirun (rank 0 coordinates).
      GroupRecord row;
      row.group = i;
      for (int r = 0; r < info.group_size; ++r) {
        const std::string sep = r ? "," : "";
        row.ranks += sep + std::to_string(1 + i * info.group_size + r);
        row.hosts += sep + "simulated";
        row.devices += sep + "simulated";
      }
      group_rows.push_back(row);
    }
  if (!setup.resume) sink.begin(info, group_rows);
  SegmentRecord job;  // the simulated job's /segments row (store only)
  auto write_job = [&](double at, const std::string& status) {
    if (!setup.store) return;
    job.start_time = setup.start_time;
    job.status = status;
    job.elapsed_s = at - setup.start_time;
    job.end_time = status == "running" ? kNaN : at;
    job.world_size = info.world_size;
    job.device_seconds = job.elapsed_s * info.world_size;
    job.group_size = info.group_size;
    job.num_groups = info.num_groups;
    job.devices = info.devices;
    job.hosts = "simulated";
    job.command_line = info.command_line;
    job.reason = status == "running" ? "" : "simulated";
    sink.set_segment(job);
  };
  write_job(setup.start_time, "running");
  CoordinatorCore core(o, *scheduler, *searcher, replay_store);
  double now = setup.start_time;
  if (setup.resume) {
    replay_events(core, setup.resume->events);
    for (const auto& e : setup.resume->events) now = std::max(now, e.time);
  }
  replay_store.set_live(true);

  // (deque: a group's runner refers to its port and trainable, which must not move)
  std::deque<VirtualGroup> groups;
  for (int i = 0; i < setup.num_groups; ++i) groups.emplace_back(i, cfg.train, setup.make_trainable(), now);
  // Seconds of step `s` of the trial group g trains (its segment's hyperparameters).
  auto cost = [&](const VirtualGroup& g, TrialId t, int64_t s) {
    if (cost_model) return cost_model->scaled(g.index, t, s, g.base_seconds);
    return setup.step_seconds ? setup.step_seconds(t, s) : 1.0;
  };
  std::map<TrialId, int> segments_started;  // per trial: the cost model's failure draw of each

  // The groups' next events in time order (ties: the lowest group, for determinism), so picking
  // the next one costs log(groups), not a scan of every group at every step.
  std::set<std::pair<double, int>> agenda;
  auto schedule = [&](VirtualGroup& g, double t) {
    if (g.next_time < kNever) agenda.erase({g.next_time, g.index});
    g.next_time = t;
    if (t < kNever) agenda.insert({t, g.index});
  };

  SimulationResult result;
  auto answer = [&](VirtualGroup& g, Message m, double delay = 0) {
    g.state = VirtualGroup::State::Answering;
    g.answer = std::move(m);
    schedule(g, now + delay);
    result.io_seconds += delay;
  };
  // `delay`: seconds before the first step (reading a checkpoint, receiving a state).
  auto begin_training = [&](VirtualGroup& g, const SegmentMsg& seg, double delay) {
    g.state = VirtualGroup::State::Training;
    g.port.fail_at = -1;
    if (cost_model) {
      g.base_seconds = cost_model->base_step_seconds(seg.hparams);
      g.port.fail_at =
          cost_model->failure_step(seg.trial, segments_started[seg.trial]++, g.trainable->step(), seg.stop);
    }
    if (seg.init == SegmentInit::Fresh) g.trial_tokens = 0;
    g.runner.begin(g.index, seg, /*started=*/now, g.trial_tokens);
    g.stop_pending.reset();
    g.on_old_clock = false;
    if (auto c = core.take_resumed_clock(seg.trial)) {
      // Where step `at` ended on the old segment's clock, which began at c->start_step.
      const int64_t at = g.trainable->step();
      double t = c->since;
      for (int64_t j = c->start_step + 1; j <= at; ++j) t += cost(g, seg.trial, j);
      for (int64_t j = at + 1; j <= c->start_step; ++j) t -= cost(g, seg.trial, j);
      g.on_old_clock = true;
      g.step_seconds = cost(g, seg.trial, at + 1);
      g.clock = t + g.step_seconds;
      schedule(g, std::max(now, g.clock));
      return;
    }
    g.step_seconds = cost(g, seg.trial, g.trainable->step() + 1);
    const double round_trip = cost_model ? cost_model->round_trip_seconds() : 0;
    schedule(g, now + round_trip + delay + g.step_seconds);
    result.io_seconds += delay;
  };
  auto next_step_time = [&](VirtualGroup& g, TrialId trial, int64_t step) {
    g.step_seconds = cost(g, trial, step + 1);
    if (!g.on_old_clock) return now + g.step_seconds;
    g.clock += g.step_seconds;
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
        double delay = 0;  // cost model: reading a checkpoint, or receiving a state
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
              if (cost_model) delay = cost_model->checkpoint_seconds();
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
              if (cost_model) delay = source_group < 0 ? cost_model->checkpoint_seconds() : cost_model->transfer_seconds();
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
        begin_training(g, effective, delay);
        if (received.trial >= 0) apply(core.handle(out.group, received, now));
      } else if (auto* stop = std::get_if<StopTrialMsg>(&out.message)) {
        if (g.state == VirtualGroup::State::Training && g.runner.segment().trial == stop->trial)
          g.stop_pending = g.stop_pending.value_or(false) || stop->evaluate;
      } else if (auto* f = std::get_if<FinalEvalMsg>(&out.message)) {
        // As the worker does (worker.cpp final_eval), in no virtual time.
        FinalEvalDoneMsg done;
        done.group = out.group;
        done.label = f->label;
        done.trial = f->trial;
        try {
          run_final_eval(*g.trainable, *f, g.runner.segment().trial, done);  // it holds the trial it last trained
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
          answer(g, CheckpointDoneMsg{out.group, ckpt->trial, step, 0, cached},
                 cost_model ? cost_model->checkpoint_seconds() : 0);
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
        schedule(g, kNever);
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
      result.elapsed = now - setup.start_time;
      return result;
    }
    // The group whose event comes first.
    MPITUNE_CHECK(!agenda.empty(), "simulation stalled: no group is busy but the coordinator is not done");
    const int next = agenda.begin()->second;
    VirtualGroup& g = groups[next];
    now = g.next_time;
    apply(core.tick(now));
    if (g.state == VirtualGroup::State::Answering) {
      g.state = VirtualGroup::State::Idle;
      schedule(g, kNever);
      apply(core.handle(next, g.answer, now));
      continue;
    }
    if (g.state != VirtualGroup::State::Training) continue;  // the tick shut it down

    const TrialId trial = g.runner.segment().trial;
    // The step in progress ends; a stop that came while it ran is seen at this boundary, after
    // the step (which counts, and reports if due), as a real group sees it. A stop the group's
    // own messages of this step bring comes a round trip later: at the next boundary.
    const std::optional<bool> stop = std::exchange(g.stop_pending, std::nullopt);
    SegmentRunner::Outcome outcome = g.runner.advance();
    if (g.runner.trained_last() || outcome == SegmentRunner::Outcome::Failed) {
      ++result.steps;
      result.busy_seconds += g.step_seconds;
    }
    if (outcome == SegmentRunner::Outcome::Trained && stop) {
      g.runner.request_stop(*stop);
      outcome = g.runner.advance();
    }
    if (outcome != SegmentRunner::Outcome::Trained) {
      // Idle before the coordinator hears of it: its answer may be the group's next order.
      if (outcome == SegmentRunner::Outcome::Failed) g.held = -1;
      g.state = VirtualGroup::State::Idle;
      schedule(g, kNever);
    }
    std::vector<Message> sent;
    sent.swap(g.port.outbox);
    for (const Message& m : sent) apply(core.handle(next, m, now));
    if (outcome == SegmentRunner::Outcome::Trained && g.state == VirtualGroup::State::Training &&
        g.runner.running() && g.runner.segment().trial == trial)
      schedule(g, next_step_time(g, trial, g.trainable->step()));
  }
  for (const auto& g : groups) result.injected_failures += g.port.injected;
  core.finish(now);
  apply({});  // the folders finish() released
  write_job(now, "finished");
  result.data = store.data();
  result.elapsed = now - setup.start_time;
  result.events = core.events_logged();
  result.decisions = sink.decisions();
  result.kept = core.kept();
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(o.keep_root, ec)) result.kept_folders.insert(e.path().filename());
  return result;
}

}  // namespace mpitune
