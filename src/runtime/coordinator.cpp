#include "mpitune/runtime/coordinator.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <optional>

#include "mpitune/comm/backoff.hpp"
#include "mpitune/coord/coordinator_core.hpp"
#include "mpitune/coord/event_order.hpp"
#include "mpitune/coord/factories.hpp"
#include "mpitune/coord/replay.hpp"
#include "mpitune/runtime/status_display.hpp"

namespace mpitune {
namespace {

std::atomic<int> g_stop_signal{0};
std::atomic<int> g_stop_count{0};

extern "C" void on_stop_signal(int sig) {
  g_stop_signal.store(sig);
  g_stop_count.fetch_add(1);
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The hosts of a job's worker ranks (rank 0 left out, as /groups does), distinct, in rank order.
std::string distinct_hosts(const GroupLayout& layout) {
  std::vector<std::string> seen;
  for (size_t r = 1; r < layout.hosts.size(); ++r)
    if (std::find(seen.begin(), seen.end(), layout.hosts[r]) == seen.end()) seen.push_back(layout.hosts[r]);
  std::string out;
  for (const auto& h : seen) out += (out.empty() ? "" : ",") + h;
  return out;
}

// The first group that owes the coordinator an answer and has been silent for longer than
// `timeout` seconds (0: never), described in one line; "" when there is none.
std::string silent_group(const CoordinatorCore& core, const std::vector<double>& heard,
                         const std::vector<GroupRecord>& groups, double now, double timeout) {
  if (timeout <= 0 || core.done()) return "";
  for (int g : core.working_groups()) {
    if (now - heard[g] <= timeout) continue;
    const GroupRecord* rec = g < static_cast<int>(groups.size()) ? &groups[g] : nullptr;
    return "group " + std::to_string(g) + " (ranks " + (rec ? rec->ranks : "?") + " on " + (rec ? rec->hosts : "?") +
           ") sent nothing for " + std::to_string(static_cast<int>(now - heard[g])) +
           " s (experiment.heartbeat_timeout_s = " + std::to_string(static_cast<int>(timeout)) + ")";
  }
  return "";
}

}  // namespace

void install_stop_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
}

int stop_signal_number() { return g_stop_signal.load(); }
int stop_signal_count() { return g_stop_count.load(); }

std::string run_coordinator(CoordinatorRun& run) {
  const ExperimentConfig& cfg = run.cfg;
  auto scheduler = make_scheduler(cfg);
  auto searcher = make_searcher(cfg);
  const double job_start = wall_now();

  // A resumed experiment keeps its clock: the time between its jobs does not count.
  double start_time = run.info.start_time, offline = 0, prior_device_seconds = 0;
  int64_t segment_index = 0;
  if (run.resume) {
    start_time = run.resume->info.start_time;
    double covered = 0;  // running seconds of the earlier jobs
    for (const auto& s : run.resume->segments) {
      covered += s.elapsed_s;
      prior_device_seconds += s.device_seconds;
      segment_index = std::max(segment_index, s.index + 1);
    }
    offline = std::max(0.0, job_start - start_time - covered);
  }
  CoordinatorOptions o = coordinator_options(cfg, run.topo.num_groups, start_time, cfg.checkpoint_root());
  o.param_counts = run.param_counts;
  o.offline_s = offline;
  o.prior_device_seconds = prior_device_seconds;
  o.job_start_time = job_start;
  if (!run.resume) run.store.begin(run.info, run.groups);
  ReplayStore store(run.store);
  CoordinatorCore core(o, *scheduler, *searcher, store);
  int64_t last_vtime = 0;
  if (run.resume) {
    const auto t0 = std::chrono::steady_clock::now();
    replay_events(core, run.resume->events);
    for (const auto& e : run.resume->events) last_vtime = std::max(last_vtime, e.vtime);
    if (!run.quiet)
      std::printf("mpitune: resumed from %zu events in %.3f s (%lld jobs before this one)\n",
                  run.resume->events.size(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                  static_cast<long long>(segment_index));
  }
  store.set_live(true);
  if (run.resume) {
    // A job whose row still says running ended without a word (killed, its node lost: mpirun
    // ends every rank of a job with a dead one before rank 0 could write anything); say so now.
    for (SegmentRecord s : run.resume->segments) {
      if (s.status != "running") continue;
      s.status = "aborted";
      s.end_time = s.start_time + s.elapsed_s;
      s.reason = "ended without closing the file (killed, its node lost, or out of host memory); found by job " +
                 std::to_string(segment_index);
      run.store.set_segment(s);
    }
  }

  // This job's /segments row, rewritten with every flush (a job that dies keeps its last one).
  SegmentRecord segment;
  segment.index = segment_index;
  segment.start_time = job_start;
  segment.world_size = run.topo.world_size;
  segment.group_size = run.topo.group_size;
  segment.num_groups = run.topo.num_groups;
  segment.devices = run.info.devices;
  segment.hosts = distinct_hosts(run.topo.layout);
  segment.command_line = run.info.command_line;
  segment.first_event = core.events_logged();
  auto write_segment = [&](double now, const std::string& status, const std::string& why) {
    segment.elapsed_s = now - job_start;
    segment.device_seconds = segment.elapsed_s * run.topo.world_size;
    segment.status = status;
    segment.reason = why;
    segment.end_time = status == "running" ? kNaN : now;
    run.store.set_segment(segment);
  };
  write_segment(job_start, "running", "");

  // In deterministic mode messages wait in `order` until no group can send an earlier one.
  std::optional<DeterministicOrder> order;
  if (cfg.experiment.deterministic) order.emplace(run.topo.num_groups, last_vtime);

  // Liveness: when each group was last heard from (or last given an order).
  std::vector<double> heard(static_cast<size_t>(run.topo.num_groups), job_start);
  // Orders go out as they are decided, after the folder changes decided with them: an order
  // may name a folder that was just moved (a paused trial's checkpoint that became its kept
  // weights, which the final evaluation then loads); the folders that go are ones no order needs.
  auto send_all = [&](const std::vector<Outgoing>& outs, int64_t vtime = -1) {
    apply_folder_changes(core);
    for (const auto& out : outs) {
      if (order) {
        const auto* seg = std::get_if<SegmentMsg>(&out.message);
        if (auto clock = seg ? core.take_resumed_clock(seg->trial) : std::nullopt)
          order->on_resumed_segment(out.group, clock->since_vtime >= 0 ? clock->since_vtime : last_vtime,
                                    clock->start_step);
        else
          order->on_order(out.group, out.message, vtime >= 0 ? vtime : last_vtime);
      }
      heard[out.group] = wall_now();
      run.channel.send(run.topo.leader_of(out.group), out.message);
    }
  };
  auto print_status = [&](double now) {
    if (run.quiet) return;
    std::fputs(format_status(cfg.experiment.name, cfg.experiment.metric, core.snapshot(now), scheduler->max_steps(),
                             run.verbose, run.topo.num_groups).c_str(), stdout);
    std::fflush(stdout);
  };

  send_all(core.begin_job(job_start, run.topo.num_groups));

  // Rank 0 waits for every group's answers: its poll interval is most of the round trip a
  // group waits at each segment's end, so it polls at most every 200 us (~5,000 wake-ups a
  // second, a few percent of a core) while the groups, which wait for one answer each, keep
  // the 500 us default.
  Backoff backoff(std::chrono::microseconds(200));
  double last_tick = 0, last_status = wall_now(), last_flush = wall_now();
  int signals_seen = 0;
  std::string stopping_reason;  // set while a preempt is under way (below)
  // /summary and this job's /segments row as they stand, made visible to readers.
  auto flush_live_state = [&](double now) {
    core.update_summary(now);
    write_segment(now, stopping_reason.empty() ? "running" : "aborted", stopping_reason);
    run.store.flush();
  };
  std::string outcome = "finished";
  // Deterministic mode, preempting: the order is frozen (nothing more is released); a group
  // that sent anything after the freeze has a checkpoint newer than what the core has seen.
  std::vector<bool> sent_after_freeze(static_cast<size_t>(run.topo.num_groups), false);
  while (!core.done()) {
    const double now = wall_now();
    if (auto e = run.channel.poll()) {
      const int group = run.topo.group_of_rank(e->source);
      heard[group] = now;
      Message& m = e->message;
      if (std::holds_alternative<HeartbeatMsg>(m) || core.is_stale(m)) {
        // liveness only, or a step the experiment recorded before this job
      } else if (order && core.preempting()) {
        if (auto* p = std::get_if<PreemptedMsg>(&m)) {
          if (p->ok && (order->has_queued(group) || sent_after_freeze[group])) {
            p->ok = false;
            p->reason = "deterministic order: messages before this checkpoint were not handled";
          }
          send_all(core.handle(group, m, now));
        } else {
          sent_after_freeze[group] = true;
        }
      } else if (order) {
        order->push(group, std::move(m));
        while (auto ev = order->pop()) {
          last_vtime = std::max(last_vtime, ev->vtime);
          send_all(core.handle(ev->group, ev->message, now, ev->vtime), ev->vtime);
        }
      } else {
        send_all(core.handle(group, m, now));
      }
      backoff.reset();
    } else {
      backoff.pause();
    }
    if (now - last_tick >= 0.2) {
      last_tick = now;
      send_all(core.tick(now));
      const int count = stop_signal_count();
      if (count > signals_seen) {
        const int sig = stop_signal_number();
        const std::string name = sig == SIGUSR1 ? "SIGUSR1" : sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a signal";
        if (signals_seen == 0) {
          std::printf("mpitune: %s: checkpointing the running trials, then exiting (exit code 3); the same "
                      "command continues the experiment\n", name.c_str());
          std::fflush(stdout);
          send_all(core.request_preempt(now, name + " received"));
          // Until every running trial is checkpointed the file says aborted, flushed now: the
          // signal may be the launcher's own before it kills the job (mpirun sends SIGTERM to
          // every rank when one has died, then SIGKILL), and a job killed before its checkpoints
          // are done ended aborted, not interrupted. finish_interrupted() then says interrupted.
          stopping_reason = name + " received (from the user, the scheduler, or mpirun after a rank died): "
                            "checkpointing the running trials; a job killed before they are all written ended here";
          flush_live_state(now);
        } else {
          std::printf("mpitune: %s again: exiting without waiting for the remaining checkpoints\n", name.c_str());
          std::fflush(stdout);
          send_all(core.finish_interrupted(now));
          outcome = "interrupted";
        }
        signals_seen = count;
      }
      if (core.preempting() && core.preempt_complete() && !core.done()) {
        send_all(core.finish_interrupted(now));
        outcome = "interrupted";
      }
      // A group that owes an answer and has been silent too long: dead or hung.
      const std::string silent = silent_group(core, heard, run.groups, now, cfg.experiment.heartbeat_timeout_s);
      if (!silent.empty()) {
        std::fprintf(stderr, "mpitune: error: %s: a rank died or hangs; ending the job (the file is resumable: "
                             "run the same command again once the node is fixed)\n", silent.c_str());
        std::fflush(stderr);
        core.finish_aborted(now);
        write_segment(now, "aborted", silent);
        run.store.flush();
        return "aborted";
      }
    }
    if (now - last_flush >= 2.0) {
      last_flush = now;
      flush_live_state(now);
    }
    if (now - last_status >= cfg.experiment.status_interval_s) {
      last_status = now;
      print_status(now);
    }
  }
  const double end = wall_now();
  print_status(end);
  if (outcome == "finished") {
    core.finish(end);
    send_all({});
  }
  write_segment(end, outcome, outcome == "interrupted" ? "stop signal" : "");
  run.kept = core.kept();
  // The root goes too when nothing is left in it (an interrupted run keeps its checkpoints).
  std::error_code ec;
  std::filesystem::remove(o.checkpoint_root, ec);
  run.channel.drain();
  return outcome;
}

}  // namespace mpitune
