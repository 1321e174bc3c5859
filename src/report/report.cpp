// The experiment report, one row per file (see report.hpp); the aggregated form is in
// aggregate_report.cpp.
#include "mpitune/report/report.hpp"

#include <cmath>

#include "aggregate_report.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/report/report_rows.hpp"
#include "mpitune/report/schedule_report.hpp"
#include "report_cells.hpp"
#include "report_sections.hpp"

namespace mpitune {
namespace {

using report_cells::csv;
using report_cells::md;
using report_cells::num;
using report_cells::or_dash;

const TrialRecord* find_trial(const ExperimentData& run, TrialId id) {
  for (const auto& t : run.trials)
    if (t.id == id) return &t;
  return nullptr;
}

// The significance of each row against the (one) reference; Compared only where both sides have
// a test evaluation on the same documents. Empty without a reference or without resamples.
std::vector<TestComparison> compare_rows(const ReportRows& rows, const ReportOptions& options) {
  std::vector<TestComparison> out(rows.rows.size());
  const ReportRow* reference = nullptr;
  for (const auto& row : rows.rows)
    if (row.is_reference) reference = &row;
  if (!reference || options.bootstrap_resamples == 0) return {};  // --bootstrap 0: no significance
  for (size_t i = 0; i < rows.rows.size(); ++i)
    if (!rows.rows[i].is_reference)
      out[i] = compare_test_losses(*rows.rows[i].run, *reference->run, options.bootstrap_resamples,
                                   options.bootstrap_seed);
  return out;
}

std::string best_cell(const RunCost& c) {
  if (std::isnan(c.best)) return "-";
  return num(c.best, "%.5g") + (c.best_at_full_budget ? "" : " (" + std::to_string(c.best_budget) + " steps)");
}

std::string reach_cell(const ReportRows& rows, const ReportRow& row, double value, const char* format) {
  if (!rows.have_reference) return "";
  if (std::isnan(rows.reference_best)) return "-";  // the reference has no best to reach
  return row.reach.reached ? or_dash(num(value, format)) : "not reached";
}

std::string ratio_cell(const ReportRows& rows, const ReportRow& row) {
  if (!rows.have_reference) return "";
  return or_dash(num(row.ratio, "%.2f"));
}

// ---- Markdown ----

void md_cost_table(std::string& out, const ReportRows& rows) {
  out += "## Cost to the best result\n\n";
  out += "| experiment | file | method | metric | best at full budget | best at any step | test loss (95% CI) | "
         "time to best (s) | devices | device-min to best | device-min total | cost vs reference | "
         "time to reference best (s) | device-min to reference best |\n";
  out += "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& row : rows.rows) {
    const RunCost& c = row.cost;
    out += "| " + md(c.name) + (row.is_reference ? " (reference)" : "") + " | " + md(row.file) + " | " +
           md(c.method) + " | " + md(c.metric + " (" + c.mode + ")") + " | " + best_cell(c) + " | " +
           or_dash(num(c.best_any, "%.5g")) + " | " + report_cells::test_loss_cell(c) + " | " +
           or_dash(num(c.time_to_best_s, "%.1f")) + " | " + std::to_string(c.devices) + " | " + or_dash(num(c.device_minutes_to_best, "%.2f")) + " | " +
           or_dash(num(c.device_minutes_total, "%.2f")) + " | " + ratio_cell(rows, row) + " | " +
           reach_cell(rows, row, row.reach.time_s, "%.1f") + " | " +
           reach_cell(rows, row, row.reach.device_minutes, "%.2f") + " |\n";
  }
  out += "\n" + report_sections::column_definitions(false);
}

void md_significance(std::string& out, const ReportRows& rows, const std::vector<TestComparison>& comparisons,
                     const ReportOptions& options) {
  // Nothing to say when there is nothing to compare, or when no file has a test evaluation at all
  // (files of schema < 3, or final_eval off everywhere).
  bool any_row = false, any_test = false;
  for (const auto& row : rows.rows) {
    any_row = any_row || !row.is_reference;
    any_test = any_test || test_row(*row.run) != nullptr;
  }
  if (comparisons.empty() || !any_row || !any_test) return;
  out += "## Test loss against the reference\n\n";
  out += report_sections::significance_intro(options.bootstrap_resamples, options.bootstrap_seed);
  for (size_t i = 0; i < comparisons.size(); ++i) {
    const ReportRow& row = rows.rows[i];
    if (row.is_reference) continue;
    out += "- " + row.cost.name + " (" + row.file + "): " + report_sections::comparison_text(comparisons[i]) + "\n";
  }
  out += "\n";
}

std::string best_trial_line(const RunCost& c) {
  const bool early = c.best_step >= 0 && c.best_step < c.best_budget;
  std::string s = "- best trial: " + std::to_string(c.best_trial) + " (" + c.metric + " " + num(c.best, "%.6g") +
                  " at step " + std::to_string(early ? c.best_step : c.best_budget);
  if (c.best_at_full_budget)
    return s + (early ? ", early-stopped: counts as the full budget)\n" : ", the full budget)\n");
  if (c.max_t <= 0)
    return s + "): the best at the largest budget reached (" + std::to_string(c.best_budget) +
           " steps); the file does not record the full budget\n";
  return s + "): best at a lower budget (" + std::to_string(c.best_budget) +
         " steps); no trial reached the full budget of " + std::to_string(c.max_t) + " steps\n";
}

std::string forgetting_line(const RunCost& c) {
  if (!c.has_base) return "";
  std::string s = "- forgetting (base model before tuning -> best configuration): ";
  if (std::isnan(c.base_retention_loss) || std::isnan(c.best_retention_loss)) {
    s += "retention loss " + or_dash(num(c.base_retention_loss, "%.5g")) + " -> " +
         or_dash(num(c.best_retention_loss, "%.5g")) + " (no data.retention_corpus figure on both sides)";
  } else {
    s += "retention loss " + num(c.base_retention_loss, "%.5g") + " -> " + num(c.best_retention_loss, "%.5g") +
         " (" + num(c.best_retention_loss - c.base_retention_loss, "%+.4g") + ")";
  }
  s += "; test loss " + or_dash(num(c.base_test_loss, "%.5g")) + " -> " + or_dash(num(c.test_loss, "%.5g"));
  if (!std::isnan(c.base_test_loss) && !std::isnan(c.test_loss))
    s += " (" + num(c.test_loss - c.base_test_loss, "%+.4g") + ")";
  return s + "\n";
}

void md_per_experiment(std::string& out, const ReportRows& rows) {
  out += "## Best configuration\n\n";
  for (const auto& row : rows.rows) {
    const RunCost& c = row.cost;
    out += "### " + c.name + " (" + row.file + ")" + (row.is_reference ? ", the reference" : "") + "\n\n";
    if (c.best_trial < 0) {
      out += "- no trial has a final result yet\n";
    } else {
      const TrialRecord* t = find_trial(*row.run, c.best_trial);
      out += best_trial_line(c);
      out += "- hyperparameters: " + (t ? or_dash(t->hparams.to_string()) : "(trial not in the file)") + "\n";
    }
    if (!std::isnan(c.best_any))
      out += "- best at any step: trial " + std::to_string(c.best_any_trial) + ", " + c.metric + " " +
             num(c.best_any, "%.6g") + " at step " + std::to_string(c.best_any_step) + "\n";
    else
      out += "- no metric reported yet\n";
    if (!c.test_label.empty())
      out += "- test loss: " + report_cells::test_loss_cell(c) + " (/final \"" + c.test_label + "\": trial " +
             std::to_string(c.test_trial) + " trained " + std::to_string(c.test_step) + " steps; " +
             std::to_string(c.test_documents) + " test documents, " + std::to_string(c.bootstrap) +
             " bootstrap resamples)\n";
    out += forgetting_line(c);
    const std::string by_status = report_sections::status_counts_text(report_sections::count_by_status(*row.run));
    out += "- trials: " + std::to_string(row.run->trials.size()) + (by_status.empty() ? "" : " (" + by_status + ")") +
           "\n";
    out += report_sections::segments_line(*row.run) + "\n";
  }
}

// ---- CSV ----

std::string flag(bool b) { return b ? "1" : "0"; }

void csv_table(std::string& out, const ReportRows& rows, const std::vector<TestComparison>& comparisons) {
  out += "experiment,file,reference,method,metric,mode,max_t,best,best_trial,best_budget,best_at_full_budget,"
         "best_any,best_any_trial,best_any_step,test_label,test_loss,test_ci_low,test_ci_high,time_to_best_s,"
         "devices,device_minutes_to_best,device_minutes_total,cost_ratio,reached_reference,time_to_reference_s,"
         "device_minutes_to_reference,test_diff_vs_reference,test_diff_ci_low,test_diff_ci_high,test_diff_p,"
         "test_comparison,base_test_loss,base_retention_loss,best_retention_loss,best_hparams,trials";
  for (TrialStatus s : report_sections::all_statuses()) out += std::string(",") + trial_status_name(s);
  out += "\n";
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    const ReportRow& row = rows.rows[i];
    const RunCost& c = row.cost;
    const bool has_best = c.best_trial >= 0;
    const TrialRecord* t = has_best ? find_trial(*row.run, c.best_trial) : nullptr;
    const bool has_target = rows.have_reference && !std::isnan(rows.reference_best);
    const TestComparison* cmp = i < comparisons.size() ? &comparisons[i] : nullptr;
    const bool compared = cmp && cmp->outcome == ComparisonOutcome::Compared;
    const std::string cmp_text = !cmp || row.is_reference ? "" : compared ? verdict(*cmp) : cmp->detail;
    out += csv(c.name) + "," + csv(row.file) + "," + flag(row.is_reference) + "," + csv(c.method) + "," +
           csv(c.metric) + "," + csv(c.mode) + "," + std::to_string(c.max_t) + "," + num(c.best, "%.10g") + "," +
           (has_best ? std::to_string(c.best_trial) : "") + "," + (has_best ? std::to_string(c.best_budget) : "") +
           "," + (has_best ? flag(c.best_at_full_budget) : "") + "," + num(c.best_any, "%.10g") + "," +
           (c.best_any_trial >= 0 ? std::to_string(c.best_any_trial) : "") + "," +
           (c.best_any_trial >= 0 ? std::to_string(c.best_any_step) : "") + "," + csv(c.test_label) + "," +
           num(c.test_loss, "%.10g") + "," + num(c.test_ci_low, "%.10g") + "," + num(c.test_ci_high, "%.10g") + "," +
           num(c.time_to_best_s, "%.3f") + "," + std::to_string(c.devices) + "," +
           num(c.device_minutes_to_best, "%.4f") + "," + num(c.device_minutes_total, "%.4f") + "," +
           num(row.ratio, "%.4f") + "," + (has_target ? flag(row.reach.reached) : "") + "," +
           num(row.reach.time_s, "%.3f") + "," + num(row.reach.device_minutes, "%.4f") + "," +
           (compared ? num(cmp->paired.difference.estimate, "%.10g") : "") + "," +
           (compared ? num(cmp->paired.difference.low, "%.10g") : "") + "," +
           (compared ? num(cmp->paired.difference.high, "%.10g") : "") + "," +
           (compared ? num(cmp->paired.p_value, "%.6g") : "") + "," + csv(cmp_text) + "," +
           num(c.base_test_loss, "%.10g") + "," + num(c.base_retention_loss, "%.10g") + "," +
           num(c.best_retention_loss, "%.10g") + "," + csv(t ? t->hparams.to_string() : "") + "," +
           std::to_string(row.run->trials.size());
    const auto counts = report_sections::count_by_status(*row.run);
    for (TrialStatus s : report_sections::all_statuses())
      out += "," + std::to_string(counts.count(s) ? counts.at(s) : 0);
    out += "\n";
  }
}

}  // namespace

ReportFormat parse_report_format(const std::string& text, const std::string& field) {
  if (text == "md" || text == "markdown") return ReportFormat::Markdown;
  if (text == "csv") return ReportFormat::Csv;
  throw ConfigError(field, "unknown report format '" + text + "'", "use md or csv");
}

std::string format_report(const std::vector<ExperimentData>& runs,
                          const std::vector<const ExperimentData*>& references, const ReportOptions& options) {
  if (!options.aggregate && references.size() > 1)
    throw ConfigError("--reference", std::to_string(references.size()) + " reference files given",
                      "give one, or add --aggregate to compare repeated runs (then the reference runs' medians are "
                      "the reference); the files to report go before --reference");
  if (options.bootstrap_resamples < 0)
    throw ConfigError("--bootstrap", "must be at least 0", "give the number of bootstrap resamples, e.g. 10000");
  const ReportRows rows = make_report_rows(runs, references);
  if (options.aggregate) return format_aggregate_report(rows, options);
  const std::vector<TestComparison> comparisons = compare_rows(rows, options);
  std::string out;
  if (options.format == ReportFormat::Csv) {
    csv_table(out, rows, comparisons);
    return out;
  }
  md_cost_table(out, rows);
  md_significance(out, rows, comparisons, options);
  md_per_experiment(out, rows);
  std::string schedules;
  for (const auto& row : rows.rows) {
    schedules += format_budget_table(*row.run);
    schedules += format_pbt_schedule(*row.run, row.cost.best_trial);
  }
  if (!schedules.empty()) out += "## Schedules\n\n" + schedules;
  return out;
}

std::string format_report(const std::vector<ExperimentData>& runs, const ExperimentData* reference,
                          ReportFormat fmt) {
  ReportOptions options;
  options.format = fmt;
  std::vector<const ExperimentData*> references;
  if (reference) references.push_back(reference);
  return format_report(runs, references, options);
}

}  // namespace mpitune
