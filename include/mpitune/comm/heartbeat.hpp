// Heartbeat: a thread on a group leader that tells the coordinator "this group is alive" every
// few seconds while the group works, also in the middle of a long step, a checkpoint write, a
// model load or an evaluation, when no report would go out for a while. The coordinator ends
// the job when a busy group stays silent for experiment.heartbeat_timeout_s.
//
// The beat itself (sending HeartbeatMsg to rank 0) is a callback, so this class knows nothing of
// MPI: the worker only starts one when MPI provides MPI_THREAD_MULTIPLE (MpiSession), since
// the beat then calls MPI while the main thread trains; below that level the worker beats at
// step boundaries instead.
//
// A beat must mean "the group is getting on", not just "the leader process exists": a leader
// blocked forever in a collective with a stopped or dead group member would otherwise beat
// for ever and keep a dead group alive. So the main thread marks progress (busy()) at every
// order and step boundary, and the thread beats only while the last mark is younger than
// `stall_limit`. A stopped process (SIGSTOP) stops this thread with it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace mpitune {

// The beat period for a coordinator timeout: timeout / 10 within [1 s, 30 s], so several beats
// fit in the timeout however it is set; 0 (no heartbeats) when the timeout is 0 (never).
double heartbeat_interval_s(double timeout_s);

class Heartbeat {
 public:
  using Beat = std::function<void()>;
  // Starts the thread; it stays quiet until the first busy().
  Heartbeat(std::chrono::duration<double> interval, std::chrono::duration<double> stall_limit, Beat beat);
  ~Heartbeat();  // stops and joins the thread
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  // Main thread: the group is working and has just made progress; beats go on for up to
  // stall_limit from now.
  void busy();
  // Main thread: the group waits for orders; no beats until the next busy(). When idle()
  // returns no beat is under way, and none starts.
  void idle();

  int64_t beats() const;
  // The first error a beat threw (a failed send); the thread beats no more after one.
  std::optional<std::string> error() const;
  // Waits until the thread has woken `count` more times than it had when called (each wake
  // decides whether to beat), or `timeout` passed; false on timeout. For tests: it lets them
  // see that beats stopped without sleeping.
  bool wait_for_wakeups(int64_t count, std::chrono::duration<double> timeout);

 private:
  void loop();

  const std::chrono::steady_clock::duration interval_;
  const std::chrono::steady_clock::duration stall_limit_;
  const Beat beat_;
  mutable std::mutex mutex_;          // held while a beat is sent, so idle() waits for it
  std::condition_variable wake_;      // stop
  std::condition_variable woke_;      // a wake-up happened (wait_for_wakeups)
  bool stop_ = false;
  bool busy_ = false;
  std::chrono::steady_clock::time_point last_progress_;
  int64_t beats_ = 0;
  int64_t wakeups_ = 0;
  std::optional<std::string> error_;
  std::thread thread_;                // last: starts once everything above is set
};

}  // namespace mpitune
