#include "mpitune/coord/simulator.hpp"

#include <cmath>
#include <limits>

#include "mpitune/coord/factories.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

struct VirtualGroup {
  std::unique_ptr<Trainable> trainable;
  bool busy = false;
  SegmentMsg seg;
  double next_time = 0;      // when the step in progress finishes
  double segment_start = 0;
  bool stop_requested = false;
  int64_t steps_since_log = 0;
  double loss_sum = 0;
};

}  // namespace

SimulationResult simulate(const SimulationSetup& setup) {
  MPITUNE_CHECK(setup.cfg && setup.make_trainable, "simulate needs a config and a trainable factory");
  const ExperimentConfig& cfg = *setup.cfg;
  auto scheduler = make_scheduler(cfg);
  auto searcher = make_searcher(cfg);
  MemoryStore store;

  CoordinatorOptions o;
  o.num_groups = setup.num_groups;
  o.group_size = cfg.experiment.group_size;
  o.world_size = 1 + setup.num_groups * cfg.experiment.group_size;
  o.max_trials = cfg.experiment.max_trials;
  o.time_budget_s = cfg.experiment.time_budget_s;
  o.seed = cfg.experiment.seed;
  o.mode = cfg.experiment.mode;
  o.metric = cfg.experiment.metric;
  o.start_time = 0;
  ExperimentInfo info;
  info.name = cfg.experiment.name;
  info.scheduler = cfg.scheduler.type;
  info.searcher = cfg.search.type;
  info.metric = cfg.experiment.metric;
  info.mode = cfg.experiment.mode == Mode::Min ? "min" : "max";
  info.world_size = o.world_size;
  info.group_size = o.group_size;
  info.num_groups = o.num_groups;
  info.device_kind = "simulated";
  info.space = cfg.space;
  store.begin(info, {});
  CoordinatorCore core(o, *scheduler, *searcher, store);

  std::vector<VirtualGroup> groups(static_cast<size_t>(setup.num_groups));
  for (auto& g : groups) g.trainable = setup.make_trainable();
  auto cost = [&](TrialId t, int64_t s) { return setup.step_seconds ? setup.step_seconds(t, s) : 1.0; };

  double now = 0;
  SimulationResult result;
  auto apply = [&](const std::vector<Outgoing>& outs) {
    for (const auto& out : outs) {
      VirtualGroup& g = groups[out.group];
      if (auto* seg = std::get_if<SegmentMsg>(&out.message)) {
        if (seg->init == SegmentInit::Fresh) {
          g.trainable->release();
          g.trainable->start(seg->trial, seg->hparams, seg->seed, seg->max_steps);
        } else if (seg->init != SegmentInit::Continue) {
          throw InfraError("the simulator does not support segment init " + std::string(segment_init_name(seg->init)));
        }
        g.busy = true;
        g.seg = *seg;
        g.segment_start = now;
        g.stop_requested = false;
        g.next_time = now + cost(seg->trial, g.trainable->step() + 1);
      } else if (auto* stop = std::get_if<StopTrialMsg>(&out.message)) {
        if (g.busy && g.seg.trial == stop->trial) g.stop_requested = true;
      } else if (std::holds_alternative<ShutdownMsg>(out.message)) {
        g.busy = false;
      }
    }
  };

  for (int i = 0; i < setup.num_groups; ++i) apply(core.handle(i, ReadyMsg{i}, now));
  while (!core.done()) {
    // The group whose step finishes first (ties: the lowest group, for determinism).
    int next = -1;
    for (int i = 0; i < setup.num_groups; ++i)
      if (groups[i].busy && (next < 0 || groups[i].next_time < groups[next].next_time)) next = i;
    MPITUNE_CHECK(next >= 0, "simulation stalled: no group is busy but the coordinator is not done");
    VirtualGroup& g = groups[next];
    now = g.next_time;
    apply(core.tick(now));

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
      g.busy = false;
      g.trainable->release();
      apply(core.handle(next, TrialFailedMsg{next, trial, step, failure, now - g.segment_start}, now));
      continue;
    }
    g.loss_sum += r.loss;
    ++g.steps_since_log;
    if (step < g.seg.stop && !g.stop_requested) {
      if (step % cfg.train.log_interval == 0) {
        ReportMetrics m;
        m.train_loss = g.loss_sum / g.steps_since_log;
        m.eval_loss = std::numeric_limits<double>::quiet_NaN();
        g.loss_sum = 0, g.steps_since_log = 0;
        apply(core.handle(next, ReportMsg{next, trial, step, m}, now));
      }
      if (g.busy && g.seg.trial == trial) g.next_time = now + cost(trial, step + 1);
      continue;
    }
    SegmentDoneMsg done;
    done.group = next;
    done.trial = trial;
    done.step = step;
    done.metrics.train_loss = g.steps_since_log ? g.loss_sum / g.steps_since_log : r.loss;
    done.metrics.eval_loss = g.stop_requested ? std::numeric_limits<double>::quiet_NaN() : g.trainable->evaluate();
    done.seconds = now - g.segment_start;
    done.interrupted = g.stop_requested;
    g.loss_sum = 0, g.steps_since_log = 0;
    g.busy = false;
    apply(core.handle(next, done, now));
  }
  core.finish(now);
  result.data = store.data();
  result.elapsed = now;
  return result;
}

}  // namespace mpitune
