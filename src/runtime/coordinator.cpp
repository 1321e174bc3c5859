#include "mpitune/runtime/coordinator.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <optional>

#include "mpitune/comm/backoff.hpp"
#include "mpitune/coord/coordinator_core.hpp"
#include "mpitune/coord/event_order.hpp"
#include "mpitune/coord/factories.hpp"
#include "mpitune/runtime/status_display.hpp"

namespace mpitune {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
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

bool stop_signal_received() { return g_stop_signal.load() != 0; }

std::string run_coordinator(CoordinatorRun& run) {
  const ExperimentConfig& cfg = run.cfg;
  auto scheduler = make_scheduler(cfg);
  auto searcher = make_searcher(cfg);

  CoordinatorOptions o = coordinator_options(cfg, run.topo.num_groups, run.info.start_time, cfg.checkpoint_root());
  o.param_counts = run.param_counts;
  run.store.begin(run.info, run.groups);
  CoordinatorCore core(o, *scheduler, *searcher, run.store);

  // Orders go out as they are decided, after the folder changes decided with them: an order
  // may name a folder that was just moved (a paused trial's checkpoint that became its kept
  // weights, which the final evaluation then loads); the folders that go are ones no order needs.
  auto send_all = [&](const std::vector<Outgoing>& outs) {
    apply_folder_changes(core);
    for (const auto& out : outs) run.channel.send(run.topo.leader_of(out.group), out.message);
  };
  auto print_status = [&](double now) {
    if (run.quiet) return;
    std::fputs(format_status(cfg.experiment.name, cfg.experiment.metric, core.snapshot(now),
                             scheduler->max_steps()).c_str(), stdout);
    std::fflush(stdout);
  };

  // In deterministic mode messages wait in `order` until no group can send an earlier one.
  std::optional<DeterministicOrder> order;
  if (cfg.experiment.deterministic) order.emplace(run.topo.num_groups);

  Backoff backoff;
  double last_tick = 0, last_status = wall_now(), last_flush = wall_now();
  bool stop_sent = false;
  while (!core.done()) {
    const double now = wall_now();
    if (auto e = run.channel.poll()) {
      const int group = (e->source - 1) / run.topo.group_size;
      if (order) {
        order->push(group, std::move(e->message));
        while (auto ev = order->pop()) {
          const auto outs = core.handle(ev->group, ev->message, now);
          for (const auto& o : outs) order->on_order(o.group, o.message, ev->vtime);
          send_all(outs);
        }
      } else {
        send_all(core.handle(group, e->message, now));
      }
      backoff.reset();
    } else {
      backoff.pause();
    }
    if (now - last_tick >= 0.2) {
      last_tick = now;
      send_all(core.tick(now));
      if (stop_signal_received() && !stop_sent) {
        stop_sent = true;
        std::fprintf(stdout, "mpitune: stop signal received: ending running segments, then shutting down\n");
        send_all(core.request_stop(now, "stop signal received"));
      }
    }
    if (now - last_flush >= 2.0) {
      last_flush = now;
      core.update_summary(now);
      run.store.flush();
    }
    if (now - last_status >= cfg.experiment.status_interval_s) {
      last_status = now;
      print_status(now);
    }
  }
  const double end = wall_now();
  print_status(end);
  core.finish(end);
  send_all({});
  run.kept = core.kept();
  // The root goes too when nothing is left in it (an interrupted run keeps paused trials').
  std::error_code ec;
  std::filesystem::remove(o.checkpoint_root, ec);
  run.channel.drain();
  return stop_sent ? "interrupted" : "finished";
}

}  // namespace mpitune
