#include "mpitune/runtime/status_display.hpp"

#include <cmath>
#include <cstdio>

namespace mpitune {

std::string format_duration(double seconds) {
  char buf[64];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(seconds) / 60, int(seconds) % 60);
  } else {
    const int s = static_cast<int>(seconds);
    std::snprintf(buf, sizeof buf, "%dh%02dm%02ds", s / 3600, (s / 60) % 60, s % 60);
  }
  return buf;
}

std::string format_status(const std::string& experiment, const std::string& metric,
                          const StatusSnapshot& s, int64_t max_steps) {
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof buf,
                "== %s | %s elapsed | %.1f device-min | trials %lld: %lld running, %lld paused, "
                "%lld completed, %lld stopped, %lld failed\n",
                experiment.c_str(), format_duration(s.elapsed_s).c_str(), s.device_minutes,
                (long long)s.created, (long long)s.running, (long long)s.paused, (long long)s.completed,
                (long long)s.stopped, (long long)s.failed);
  out += buf;
  if (s.best_trial >= 0) {
    std::snprintf(buf, sizeof buf, "   best %s %.4f  trial %lld  ", metric.c_str(), s.best_metric,
                  (long long)s.best_trial);
    out += buf + s.best_hparams.to_string() + "\n";
  } else {
    out += "   best: no result yet\n";
  }
  if (!s.busy.empty()) {
    out += "   ";
    for (size_t i = 0; i < s.busy.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%sg%d: trial %lld step %lld/%lld", i ? " | " : "", s.busy[i].group,
                    (long long)s.busy[i].trial, (long long)s.busy[i].step, (long long)max_steps);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace mpitune
