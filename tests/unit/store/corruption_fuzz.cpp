// Damaged result files read in forked children (see corruption_fuzz.hpp).
#include "corruption_fuzz.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include "mpitune/core/error.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace mpitune::testing {
namespace {

// The lines the reader itself may write to stderr (a skipped partial row).
constexpr const char* kWarningPrefix = "mpitune: warning: ";

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone or killed us: nothing to report to
    done += static_cast<size_t>(n);
  }
}

// The child: run, report "<outcome letter><message>" on `fd`, exit without running any
// destructor or atexit handler of the parent's state.
[[noreturn]] void child_run(const std::function<void()>& body, int fd) {
  char kind = 'B';
  std::string message;
  try {
    body();
    kind = 'R';
  } catch (const ConfigError& e) {
    kind = 'C';
    message = e.what();
  } catch (const InfraError& e) {
    kind = 'I';
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("std::exception: ") + e.what();
  } catch (...) {
    message = "an exception that is not a std::exception";
  }
  write_all(fd, std::string(1, kind) + message);
  close(fd);
  std::_Exit(0);
}

bool one_clear_line(const std::string& message) {
  return !message.empty() && message.find('\n') == std::string::npos;
}

// "reading result file '/tmp/x/damaged.h5': a.cpp:12: H5Dread failed: ..." ->
// "reading result file '': a.cpp:#: H5Dread failed: ...".
std::string error_kind(const std::string& message, const std::string& path) {
  std::string out = message;
  for (size_t at; (at = out.find(path)) != std::string::npos;) out.erase(at, path.size());
  for (char& c : out)
    if (c >= '0' && c <= '9') c = '#';
  return out;
}

}  // namespace

bool only_reader_warnings(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (text.compare(pos, std::strlen(kWarningPrefix), kWarningPrefix) != 0) return false;
    pos = end + 1;
  }
  return true;
}

void write_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string Damage::describe() const {
  char buf[96];
  if (kind == Kind::FlipByte)
    std::snprintf(buf, sizeof buf, "flip byte %llu ^ 0x%02x", static_cast<unsigned long long>(offset), mask);
  else
    std::snprintf(buf, sizeof buf, "truncate to %llu bytes", static_cast<unsigned long long>(offset));
  return buf;
}

std::vector<Damage> draw_damages(const std::string& file_bytes, uint64_t seed, size_t count,
                                 double truncate_share) {
  if (file_bytes.empty()) throw std::invalid_argument("draw_damages: empty file");
  std::vector<uint64_t> nonzero;
  for (size_t i = 0; i < file_bytes.size(); ++i)
    if (file_bytes[i] != 0) nonzero.push_back(i);
  // The engine's raw output (its sequence is fixed by the standard), reduced by modulo: the
  // same seed gives the same damages with every standard library.
  std::mt19937_64 rng(seed);
  const uint64_t truncate_per_million = static_cast<uint64_t>(truncate_share * 1e6);
  std::vector<Damage> out;
  for (size_t i = 0; i < count; ++i) {
    Damage d;
    if (rng() % 1000000 < truncate_per_million) {
      d.kind = Damage::Kind::Truncate;
      d.offset = rng() % file_bytes.size();
    } else {
      d.kind = Damage::Kind::FlipByte;
      const bool on_nonzero = !nonzero.empty() && rng() % 2 == 0;
      d.offset = on_nonzero ? nonzero[rng() % nonzero.size()] : rng() % file_bytes.size();
      d.mask = static_cast<uint8_t>(1 + rng() % 255);
    }
    out.push_back(d);
  }
  return out;
}

std::string apply_damage(const std::string& file_bytes, const Damage& damage) {
  if (damage.offset >= file_bytes.size())
    throw std::invalid_argument("damage beyond the file: " + damage.describe());
  if (damage.kind == Damage::Kind::Truncate) return file_bytes.substr(0, damage.offset);
  std::string out = file_bytes;
  out[damage.offset] = static_cast<char>(static_cast<uint8_t>(out[damage.offset]) ^ damage.mask);
  return out;
}

const char* outcome_name(ReadOutcome o) {
  switch (o) {
    case ReadOutcome::Read: return "read";
    case ReadOutcome::ConfigError: return "ConfigError";
    case ReadOutcome::InfraError: return "InfraError";
    case ReadOutcome::BadError: return "bad error";
    case ReadOutcome::Crash: return "crash";
    case ReadOutcome::Hang: return "hang";
  }
  return "?";
}

IsolatedRead read_in_child(const std::string& path, double timeout_s) {
  return run_in_child([&] { read_hdf5_experiment(path); }, timeout_s);
}

IsolatedRead run_in_child(const std::function<void()>& body, double timeout_s) {
  int report[2], err[2];
  if (pipe2(report, O_CLOEXEC) != 0) fail_errno("pipe2");
  if (pipe2(err, O_CLOEXEC) != 0) fail_errno("pipe2");
  std::fflush(stdout);
  std::fflush(stderr);
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    close(report[0]);
    close(err[0]);
    if (dup2(err[1], STDERR_FILENO) < 0) std::_Exit(90);
    child_run(body, report[1]);
  }
  close(report[1]);
  close(err[1]);

  std::string reported, child_stderr;
  bool report_open = true, err_open = true, timed_out = false;
  const auto deadline = start + std::chrono::duration<double>(timeout_s);
  while (report_open || err_open) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{report_open ? report[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    // Rounded up: the child is killed at the deadline, not up to a millisecond before it.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    const int ready = poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail_errno("poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        (i == 0 ? report_open : err_open) = false;
        continue;
      }
      (i == 0 ? reported : child_stderr).append(buf, static_cast<size_t>(n));
    }
  }
  if (timed_out && kill(pid, SIGKILL) != 0 && errno != ESRCH) fail_errno("kill");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail_errno("waitpid");
  close(report[0]);
  close(err[0]);

  IsolatedRead r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.child_stderr = child_stderr;
  if (timed_out) {
    r.outcome = ReadOutcome::Hang;
    r.message = "killed after " + std::to_string(timeout_s) + " s";
  } else if (WIFSIGNALED(status)) {
    r.outcome = ReadOutcome::Crash;
    r.message = std::string("killed by signal ") + strsignal(WTERMSIG(status));
  } else if (reported.empty() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    r.outcome = ReadOutcome::Crash;
    r.message = "exited with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                " without reporting";
  } else {
    r.message = reported.substr(1);
    switch (reported[0]) {
      case 'R': r.outcome = ReadOutcome::Read; break;
      case 'C': r.outcome = one_clear_line(r.message) ? ReadOutcome::ConfigError : ReadOutcome::BadError; break;
      case 'I': r.outcome = one_clear_line(r.message) ? ReadOutcome::InfraError : ReadOutcome::BadError; break;
      default: r.outcome = ReadOutcome::BadError; break;
    }
  }
  return r;
}

FuzzTally fuzz_reader(const std::string& original, const FuzzOptions& options) {
  const std::string bytes = read_file_bytes(original);
  const std::string copy = options.work_dir + "/damaged.h5";
  FuzzTally tally;
  for (const Damage& damage : draw_damages(bytes, options.seed, options.copies, options.truncate_share)) {
    write_file_bytes(copy, apply_damage(bytes, damage));
    const IsolatedRead r = read_in_child(copy, options.timeout_s);
    ++tally.files;
    switch (r.outcome) {
      case ReadOutcome::Read: ++tally.reads; break;
      case ReadOutcome::ConfigError: ++tally.config_errors; break;
      case ReadOutcome::InfraError: ++tally.infra_errors; break;
      case ReadOutcome::BadError: ++tally.bad_errors; break;
      case ReadOutcome::Crash: ++tally.crashes; break;
      case ReadOutcome::Hang: ++tally.hangs; break;
    }
    if (r.outcome == ReadOutcome::ConfigError || r.outcome == ReadOutcome::InfraError)
      ++tally.error_kinds[error_kind(r.message, copy)];
    const bool noisy = !only_reader_warnings(r.child_stderr);
    tally.noisy += noisy;
    if (r.outcome != ReadOutcome::Hang && r.seconds > tally.slowest_s) {
      tally.slowest_s = r.seconds;
      tally.slowest = damage.describe();
    }
    const bool problem = noisy || r.outcome == ReadOutcome::BadError || r.outcome == ReadOutcome::Crash ||
                         r.outcome == ReadOutcome::Hang;
    if (problem && tally.problems.size() < 20)
      tally.problems.push_back(damage.describe() + ": " + outcome_name(r.outcome) + ": " + r.message +
                               (noisy ? " | stderr: " + r.child_stderr.substr(0, 300) : ""));
    if (problem && tally.failures() >= options.stop_after_problems) break;
  }
  std::remove(copy.c_str());
  return tally;
}

}  // namespace mpitune::testing
