// The experiment report (see report.hpp): cost table, column definitions, best configurations.
#include "mpitune/report/report.hpp"
#include "mpitune/report/schedule_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

double metric_value(const MetricRecord& m, const std::string& metric) {
  return metric == "train_loss" ? m.train_loss : m.eval_loss;
}

bool better(double a, double b, bool maximize) { return maximize ? a > b : a < b; }

// printf-style formatting of one number; "" for NaN so callers choose how to show "undefined".
std::string num(double x, const char* format) {
  if (std::isnan(x)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

const TrialStatus kAllStatuses[] = {TrialStatus::Pending,   TrialStatus::Running, TrialStatus::Paused,
                                    TrialStatus::Completed, TrialStatus::Stopped, TrialStatus::Failed};

std::map<TrialStatus, int> count_by_status(const ExperimentData& run) {
  std::map<TrialStatus, int> counts;
  for (const auto& t : run.trials) ++counts[t.status];
  return counts;
}

const TrialRecord* find_trial(const ExperimentData& run, TrialId id) {
  for (const auto& t : run.trials)
    if (t.id == id) return &t;
  return nullptr;
}

struct ReportRow {
  const ExperimentData* run;
  RunCost cost;
  double ratio;  // NaN: undefined or no reference
  bool is_reference;
};

std::vector<ReportRow> make_rows(const std::vector<ExperimentData>& runs, const ExperimentData* reference) {
  std::vector<const ExperimentData*> listed;
  const bool reference_listed =
      reference && std::any_of(runs.begin(), runs.end(), [&](const ExperimentData& r) { return &r == reference; });
  if (reference && !reference_listed) listed.push_back(reference);
  for (const auto& r : runs) listed.push_back(&r);

  const RunCost ref_cost = reference ? compute_run_cost(*reference) : RunCost{};
  std::vector<ReportRow> rows;
  for (const ExperimentData* r : listed) {
    ReportRow row{r, compute_run_cost(*r), kNaN, r == reference};
    if (reference) row.ratio = cost_ratio(row.cost, ref_cost);
    rows.push_back(row);
  }
  return rows;
}

std::string ratio_text(const ReportRow& row, bool have_reference, const char* format) {
  if (!have_reference) return "";
  if (row.is_reference) return "1.00";
  return or_dash(num(row.ratio, format));
}

// ---- Markdown ----

void md_cost_table(std::string& out, const std::vector<ReportRow>& rows, bool have_reference) {
  out += "## Cost to the best result\n\n";
  out += "| experiment | method | metric | best | time to best (s) | devices | device-min to best | "
         "device-min total | cost vs reference |\n";
  out += "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : rows) {
    const RunCost& c = row.cost;
    out += "| " + md_cell(c.name) + " | " + md_cell(c.method) + " | " + md_cell(c.metric + " (" + c.mode + ")") +
           " | " + or_dash(num(c.best, "%.5g")) + " | " + or_dash(num(c.time_to_best_s, "%.1f")) + " | " +
           std::to_string(c.devices) + " | " + or_dash(num(c.device_minutes_to_best, "%.2f")) + " | " +
           or_dash(num(c.device_minutes_total, "%.2f")) + " | " + ratio_text(row, have_reference, "%.2f") +
           " |\n";
  }
  out += "\n";
  out += "- best: the best value of the experiment's metric over all its metric reports (lowest for mode min, "
         "highest for max).\n";
  out += "- time to best: seconds from the experiment's start to the report in which that value was first "
         "reached.\n";
  out += "- devices: ranks of the job (world size), the coordinator rank 0 included.\n";
  out += "- device-min to best: devices x time to best / 60.\n";
  out += "- device-min total: the experiment's device-seconds / 60 (devices x elapsed wall time); when the "
         "file has no summary, devices x (last recorded row - start) / 60.\n";
  out += "- cost vs reference: device-min to best / the reference experiment's (below 1.00 is cheaper); blank "
         "without a reference, - when either is undefined.\n\n";
}

void md_best_configurations(std::string& out, const std::vector<ReportRow>& rows) {
  out += "## Best configuration\n\n";
  for (const auto& row : rows) {
    const RunCost& c = row.cost;
    out += "### " + c.name + "\n\n";
    if (std::isnan(c.best)) {
      out += "no metric reported yet\n";
    } else {
      const TrialRecord* t = find_trial(*row.run, c.best_trial);
      out += "- best trial: " + std::to_string(c.best_trial) + " (" + c.metric + " " + num(c.best, "%.6g") +
             " at step " + std::to_string(c.best_step) + ")\n";
      out += "- hyperparameters: " + (t ? or_dash(t->hparams.to_string()) : "(trial not in the file)") + "\n";
    }
    const auto counts = count_by_status(*row.run);
    std::string by_status;
    for (TrialStatus s : kAllStatuses)
      if (counts.count(s)) by_status += (by_status.empty() ? "" : ", ") + std::string(trial_status_name(s)) + " " +
                                        std::to_string(counts.at(s));
    out += "- trials: " + std::to_string(row.run->trials.size()) +
           (by_status.empty() ? "" : " (" + by_status + ")") + "\n\n";
  }
}

// ---- CSV ----

void csv_table(std::string& out, const std::vector<ReportRow>& rows, bool have_reference) {
  out += "experiment,method,metric,mode,best,time_to_best_s,devices,device_minutes_to_best,"
         "device_minutes_total,cost_ratio,best_trial,best_step,best_hparams,trials";
  for (TrialStatus s : kAllStatuses) out += std::string(",") + trial_status_name(s);
  out += "\n";
  for (const auto& row : rows) {
    const RunCost& c = row.cost;
    const TrialRecord* t = std::isnan(c.best) ? nullptr : find_trial(*row.run, c.best_trial);
    out += csv_cell(c.name) + "," + csv_cell(c.method) + "," + csv_cell(c.metric) + "," + csv_cell(c.mode) + "," +
           num(c.best, "%.10g") + "," + num(c.time_to_best_s, "%.3f") + "," + std::to_string(c.devices) + "," +
           num(c.device_minutes_to_best, "%.4f") + "," + num(c.device_minutes_total, "%.4f") + "," +
           (row.is_reference && have_reference ? "1.0000" : num(row.ratio, "%.4f")) + "," +
           (t ? std::to_string(c.best_trial) : "") + "," + (t ? std::to_string(c.best_step) : "") + "," +
           csv_cell(t ? t->hparams.to_string() : "") + "," + std::to_string(row.run->trials.size());
    const auto counts = count_by_status(*row.run);
    for (TrialStatus s : kAllStatuses) out += "," + std::to_string(counts.count(s) ? counts.at(s) : 0);
    out += "\n";
  }
}

}  // namespace

ReportFormat parse_report_format(const std::string& text, const std::string& field) {
  if (text == "md" || text == "markdown") return ReportFormat::Markdown;
  if (text == "csv") return ReportFormat::Csv;
  throw ConfigError(field, "unknown report format '" + text + "'", "use md or csv");
}

RunCost compute_run_cost(const ExperimentData& run) {
  const ExperimentInfo& info = run.info;
  if (info.metric != "eval_loss" && info.metric != "train_loss")
    throw ConfigError("experiment '" + info.name + "'", "metric '" + info.metric + "' is not reported in /metrics",
                      "report experiments whose metric is eval_loss or train_loss");
  RunCost c;
  c.name = info.name;
  c.method = info.scheduler + "+" + info.searcher;
  c.metric = info.metric;
  c.mode = info.mode;
  c.devices = info.world_size;

  const bool maximize = info.mode == "max";
  double last_time = kNaN;
  double best_time = kNaN;
  for (const auto& m : run.metrics) {
    last_time = std::isnan(last_time) ? m.time : std::max(last_time, m.time);
    const double v = metric_value(m, info.metric);
    if (std::isnan(v)) continue;
    // An equal value reported earlier (rows need not be in time order) is where the best
    // value was first reached.
    if (std::isnan(c.best) || better(v, c.best, maximize) || (v == c.best && m.time < best_time)) {
      c.best = v;
      c.best_trial = m.trial;
      c.best_step = m.step;
      best_time = m.time;
    }
  }
  c.time_to_best_s = best_time - info.start_time;
  for (const auto& d : run.decisions) last_time = std::isnan(last_time) ? d.time : std::max(last_time, d.time);

  c.device_minutes_to_best = c.devices * c.time_to_best_s / 60.0;
  if (run.summary.device_seconds > 0)
    c.device_minutes_total = run.summary.device_seconds / 60.0;
  else if (last_time > info.start_time)  // false for NaN: nothing recorded yet
    c.device_minutes_total = c.devices * (last_time - info.start_time) / 60.0;
  return c;
}

double cost_ratio(const RunCost& run, const RunCost& reference) {
  if (std::isnan(run.device_minutes_to_best) || std::isnan(reference.device_minutes_to_best) ||
      reference.device_minutes_to_best <= 0)
    return kNaN;
  return run.device_minutes_to_best / reference.device_minutes_to_best;
}

std::string format_report(const std::vector<ExperimentData>& runs, const ExperimentData* reference,
                          ReportFormat fmt) {
  const std::vector<ReportRow> rows = make_rows(runs, reference);
  std::string out;
  if (fmt == ReportFormat::Csv) {
    csv_table(out, rows, reference != nullptr);
    return out;
  }
  md_cost_table(out, rows, reference != nullptr);
  md_best_configurations(out, rows);
  std::string schedules;
  for (const auto& row : rows) {
    schedules += format_budget_table(*row.run);
    schedules += format_pbt_schedule(*row.run, row.cost.best_trial);
  }
  if (!schedules.empty()) out += "## Schedules\n\n" + schedules;
  return out;
}

}  // namespace mpitune
