#include "mpitune/comm/heartbeat.hpp"

#include <algorithm>
#include <exception>

namespace mpitune {

double heartbeat_interval_s(double timeout_s) {
  if (!(timeout_s > 0)) return 0;
  return std::clamp(timeout_s / 10, 1.0, 30.0);
}

namespace {
std::chrono::steady_clock::duration ticks(std::chrono::duration<double> d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}
}  // namespace

Heartbeat::Heartbeat(std::chrono::duration<double> interval, std::chrono::duration<double> stall_limit, Beat beat)
    : interval_(ticks(interval)), stall_limit_(ticks(stall_limit)), beat_(std::move(beat)) {
  thread_ = std::thread([this] { loop(); });
}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Heartbeat::busy() {
  std::lock_guard<std::mutex> lock(mutex_);
  busy_ = true;
  last_progress_ = std::chrono::steady_clock::now();
}

void Heartbeat::idle() {
  std::lock_guard<std::mutex> lock(mutex_);
  busy_ = false;
}

int64_t Heartbeat::beats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return beats_;
}

std::optional<std::string> Heartbeat::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

bool Heartbeat::wait_for_wakeups(int64_t count, std::chrono::duration<double> timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  const int64_t target = wakeups_ + count;
  return woke_.wait_for(lock, timeout, [&] { return wakeups_ >= target; });
}

void Heartbeat::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  auto next = std::chrono::steady_clock::now() + interval_;
  while (!wake_.wait_until(lock, next, [this] { return stop_; })) {
    const auto now = std::chrono::steady_clock::now();
    next = now + interval_;
    if (busy_ && !error_ && now - last_progress_ < stall_limit_) {
      // Under the lock: idle() waits for a beat under way, so none is sent once it returns.
      try {
        beat_();
        ++beats_;
      } catch (const std::exception& e) {
        error_ = e.what();
      }
    }
    ++wakeups_;
    woke_.notify_all();
  }
}

}  // namespace mpitune
