// The tokenization progress line (see progress.hpp).
#include "mpitune/data/progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace mpitune {

std::string format_token_count(int64_t tokens) {
  char buf[32];
  if (tokens < 100000) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(tokens));
  } else if (tokens < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(tokens) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fB", static_cast<double>(tokens) / 1e9);
  }
  return buf;
}

std::string progress_line(const std::string& label, int64_t done, int64_t total, int64_t tokens,
                          double seconds) {
  const int64_t percent = total > 0 ? done * 100 / total : 100;
  return "mpitune: tokenizing " + label + ": " + std::to_string(percent) + "% (" + std::to_string(done) + "/" +
         std::to_string(total) + " documents, " + format_token_count(tokens) + " tokens, " +
         std::to_string(static_cast<int64_t>(seconds)) + " s)";
}

std::string final_progress_line(const std::string& label, int64_t documents, int64_t tokens,
                                double seconds) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f", seconds);
  return "mpitune: tokenized " + label + ": " + std::to_string(documents) + " documents, " +
         format_token_count(tokens) + " tokens in " + secs + " s";
}

ProgressMeter::ProgressMeter(std::string label, int64_t total, bool enabled)
    : ProgressMeter(std::move(label), total, enabled, ::isatty(STDERR_FILENO) == 1,
                    []() {
                      return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                          .count();
                    },
                    [](const std::string& text) {
                      std::fputs(text.c_str(), stderr);
                      std::fflush(stderr);
                    }) {}

ProgressMeter::ProgressMeter(std::string label, int64_t total, bool enabled, bool terminal, Clock clock,
                             Sink sink)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      terminal_(terminal),
      clock_(std::move(clock)),
      sink_(std::move(sink)),
      start_(clock_()) {}

void ProgressMeter::update(int64_t done, int64_t tokens) {
  if (!enabled_) return;
  const double t = clock_() - start_;
  if (t < kQuietSeconds) return;
  if (last_shown_ >= 0 && t - last_shown_ < (terminal_ ? kTerminalInterval : kLogInterval)) return;
  last_shown_ = t;
  const std::string line = progress_line(label_, done, total_, tokens, t);
  if (terminal_) {
    // Rewrite in place; blank what a longer previous line left behind.
    const size_t pad = shown_width_ > line.size() ? shown_width_ - line.size() : 0;
    sink_("\r" + line + std::string(pad, ' '));
    shown_width_ = line.size();
  } else {
    sink_(line + "\n");
  }
}

void ProgressMeter::finish(int64_t documents, int64_t tokens) {
  if (!enabled_) return;
  const std::string line = final_progress_line(label_, documents, tokens, clock_() - start_);
  if (terminal_ && last_shown_ >= 0) {
    const size_t pad = shown_width_ > line.size() ? shown_width_ - line.size() : 0;
    sink_("\r" + line + std::string(pad, ' ') + "\n");
  } else {
    sink_(line + "\n");
  }
}

}  // namespace mpitune
