// The run's periodic status lines (see runtime/status_display.hpp).
#include "mpitune/runtime/status_display.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace mpitune {
namespace {

// A line cut to the width (with "~" where it was cut), ending in "\n".
std::string fitted(std::string line) {
  if (line.size() > kStatusLineWidth) line = line.substr(0, kStatusLineWidth - 1) + "~";
  return line + "\n";
}

}  // namespace

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
                          const StatusSnapshot& s, int64_t max_steps, bool verbose, int num_groups) {
  char buf[512];
  std::string out;
  // A long experiment name must not push the figures off the line.
  const std::string name = experiment.size() > 48 ? experiment.substr(0, 47) + "~" : experiment;
  std::snprintf(buf, sizeof buf, "== %s | %s elapsed | %.1f device-min", name.c_str(),
                format_duration(s.elapsed_s).c_str(), s.device_minutes);
  out += fitted(buf);
  std::snprintf(buf, sizeof buf, "   trials %4lld: %lld running, %lld paused, %lld completed, %lld stopped, %lld failed",
                (long long)s.created, (long long)s.running, (long long)s.paused, (long long)s.completed,
                (long long)s.stopped, (long long)s.failed);
  out += fitted(buf);
  if (s.best_trial >= 0) {
    std::snprintf(buf, sizeof buf, "   best     %s %.6g trial %lld  ", metric.c_str(), s.best_metric,
                  (long long)s.best_trial);
    out += fitted(buf + s.best_hparams.to_string());
  } else {
    out += fitted("   best     " + metric + ": no result yet");
  }
  const long long busy = static_cast<long long>(s.busy.size());
  const long long ended = (long long)(s.completed + s.stopped + s.failed);
  const double per_hour = s.elapsed_s > 0 ? ended * 3600.0 / s.elapsed_s : 0.0;
  if (num_groups > 0)
    std::snprintf(buf, sizeof buf, "   groups %4d: %lld busy, %lld idle | %.1f trials/h ended", num_groups, busy,
                  std::max(0LL, num_groups - busy), per_hour);
  else
    std::snprintf(buf, sizeof buf, "   groups %lld busy | %.1f trials/h ended", busy, per_hour);
  out += fitted(buf);
  if (verbose) {
    std::vector<StatusSnapshot::Running> groups = s.busy;
    std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.group < b.group; });
    for (const auto& g : groups) {
      std::snprintf(buf, sizeof buf, "   g%-3d trial %lld  step %lld/%lld", g.group, (long long)g.trial,
                    (long long)g.step, (long long)max_steps);
      out += fitted(buf);
    }
  }
  return out;
}

}  // namespace mpitune
