// The view of `mpitune status` (see report/status_table.hpp): a summary of three lines, then
// the trial table with columns as wide as their widest cell.
#include "mpitune/report/status_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "mpitune/report/run_cost.hpp"

namespace mpitune {
namespace {

bool better(double a, double b, bool maximize) { return maximize ? a > b : a < b; }

std::string number(const char* format, double x) {
  if (std::isnan(x)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

// "12s", "2m05s", "1h02m03s": a live view wants the seconds.
std::string elapsed_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  const long s = std::lround(seconds);
  char buf[48];
  if (s < 60) std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ldh%02ldm%02lds", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

std::string value_cell(const ParamValue* v) {
  if (!v) return "-";
  if (v->is_double()) return number("%.4g", v->as_double());
  std::string s = v->to_string();
  return s.size() > 16 ? s.substr(0, 15) + "~" : s;  // a long text choice stays one column
}

// The names of the table's hyperparameter columns: the space's, else the trials' own.
std::vector<std::string> hparam_names(const ExperimentData& d) {
  std::vector<std::string> names;
  for (const auto& dom : d.info.space.domains()) names.push_back(dom.name);
  if (names.empty())
    for (const auto& t : d.trials)
      for (const auto& e : t.hparams.entries())
        if (std::find(names.begin(), names.end(), e.first) == names.end()) names.push_back(e.first);
  return names;
}

std::string status_counts(const ExperimentData& d) {
  static const TrialStatus order[] = {TrialStatus::Running,   TrialStatus::Paused,       TrialStatus::Pending,
                                      TrialStatus::Completed, TrialStatus::EarlyStopped, TrialStatus::Stopped,
                                      TrialStatus::Failed};
  std::string s = "trials " + std::to_string(d.trials.size());
  bool first = true;
  for (TrialStatus st : order) {
    const auto n = std::count_if(d.trials.begin(), d.trials.end(), [&](const TrialRecord& t) { return t.status == st; });
    if (n == 0) continue;
    s += (first ? ": " : ", ") + std::to_string(n) + " " + trial_status_name(st);
    first = false;
  }
  return s;
}

// The step at which `t` reported its best value (-1 when no /metrics row has it).
int64_t best_step(const ExperimentData& d, const TrialRecord& t) {
  for (const auto& m : d.metrics)
    if (m.trial == t.id && metric_value(m, d.info.metric) == t.best_metric) return m.step;
  return -1;
}

std::vector<std::string> summary_lines(const ExperimentData& d, const std::vector<const TrialRecord*>& sorted,
                                       const std::string& note) {
  double device_minutes = d.summary.device_seconds / 60.0;
  try {
    device_minutes = compute_run_cost(d).device_minutes_total;  // what `mpitune report` says
  } catch (const std::exception&) {
    // A metric the report does not know: /summary's own figure.
  }
  double elapsed = d.summary.elapsed_s;
  if (d.summary.status == "running") {
    // /summary is rewritten only every few seconds: a live view counts up to the newest row.
    double newest = kNaN;
    for (const auto& m : d.metrics) newest = std::isnan(newest) ? m.time : std::max(newest, m.time);
    for (const auto& x : d.decisions) newest = std::isnan(newest) ? x.time : std::max(newest, x.time);
    if (!std::isnan(newest)) {
      const ActiveTime live = active_time(d, newest);
      if (live.seconds > elapsed) elapsed = live.seconds;
      if (live.device_minutes > device_minutes) device_minutes = live.device_minutes;
    }
  }
  char buf[512];
  std::snprintf(buf, sizeof buf, "== %s (%s + %s): %s, %s elapsed, %s device-min", d.info.name.c_str(),
                d.info.scheduler.c_str(), d.info.searcher.c_str(),
                (d.summary.status + (note.empty() ? "" : " (" + note + ")")).c_str(),
                elapsed_text(elapsed).c_str(), number("%.1f", device_minutes).c_str());
  std::vector<std::string> lines = {buf, "   " + status_counts(d)};
  if (!sorted.empty() && !std::isnan(sorted.front()->best_metric)) {
    const TrialRecord& b = *sorted.front();
    const int64_t step = best_step(d, b);
    std::snprintf(buf, sizeof buf, "   best %s %s (trial %lld%s)  ", d.info.metric.c_str(),
                  number("%.6g", b.best_metric).c_str(), static_cast<long long>(b.id),
                  step >= 0 ? (", step " + std::to_string(step)).c_str() : "");
    lines.push_back(buf + b.hparams.to_string());
  } else {
    lines.push_back("   best " + d.info.metric + ": no result yet");
  }
  return lines;
}

std::string padded(const std::string& s, size_t width, bool right) {
  const std::string pad(width > s.size() ? width - s.size() : 0, ' ');
  return right ? pad + s : s + pad;
}

}  // namespace

std::vector<const TrialRecord*> trials_by_metric(const ExperimentData& d) {
  const bool maximize = d.info.mode == "max";
  std::vector<const TrialRecord*> out;
  for (const auto& t : d.trials) out.push_back(&t);
  std::stable_sort(out.begin(), out.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    const bool ha = !std::isnan(a->best_metric), hb = !std::isnan(b->best_metric);
    if (ha != hb) return ha;
    if (ha && a->best_metric != b->best_metric) return better(a->best_metric, b->best_metric, maximize);
    return a->id < b->id;
  });
  return out;
}

std::string format_status_view(const ExperimentData& d, const StatusViewOptions& options) {
  const std::vector<const TrialRecord*> sorted = trials_by_metric(d);
  std::string out;
  for (const auto& l : summary_lines(d, sorted, options.status_note)) out += l + "\n";

  // How many rows: all, at most max_rows, and within max_lines with the header and, when rows
  // are left out, the "... N more" line.
  const size_t n = sorted.size();
  size_t shown = options.max_rows > 0 ? std::min(n, options.max_rows) : n;
  if (options.max_lines > 0)
    while (shown > 0 && kStatusSummaryLines + 1 + shown + (shown < n ? 1 : 0) > options.max_lines) --shown;
  if (sorted.empty()) return out;

  const std::vector<std::string> hp = hparam_names(d);
  std::vector<std::string> header = {"trial", "status"};
  header.insert(header.end(), hp.begin(), hp.end());
  for (const char* h : {"step", "last ", "best ", "group"})
    header.push_back(std::string(h) + (h[0] == 'l' || h[0] == 'b' ? d.info.metric : ""));
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < shown; ++i) {
    const TrialRecord& t = *sorted[i];
    std::vector<std::string> r = {std::to_string(t.id), trial_status_name(t.status)};
    for (const auto& name : hp) r.push_back(value_cell(t.hparams.find(name)));
    r.push_back(std::to_string(t.last_step));
    r.push_back(number("%.6g", t.last_metric));
    r.push_back(number("%.6g", t.best_metric));
    r.push_back(t.group >= 0 ? std::to_string(t.group) : "-");
    rows.push_back(std::move(r));
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t c = 0; c < cells.size(); ++c)
      s += (c ? "  " : "") + padded(cells[c], width[c], c != 1);  // text left, numbers right
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s + "\n";
  };
  out += line(header);
  for (const auto& r : rows) out += line(r);
  if (shown < n) out += "... " + std::to_string(n - shown) + " more\n";
  return out;
}

}  // namespace mpitune
