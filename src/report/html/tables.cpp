// The tables of one experiment: its best configurations, the /final test evaluations with
// intervals and forgetting, and the failures with their reasons (see sections.hpp).
#include <cmath>

#include "../report_cells.hpp"
#include "../report_sections.hpp"
#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace html {
namespace {

std::string cell(double x, const char* format) { return report_cells::or_dash(report_cells::num(x, format)); }

}  // namespace

Section best_configurations_section(const ExperimentView& v, const RunCost& cost, const HtmlReportOptions& options) {
  Section s;
  s.name = "best-configurations";
  s.title = "Best configurations";
  const std::string counts = report_sections::status_counts_text(report_sections::count_by_status(*v.run));
  s.html = "<p>" + std::to_string(v.trials.size()) + " trials" + (counts.empty() ? "" : " (" + xml_escape(counts) + ")") +
           ". Ranked by final result: the budget it stands for first, then " + xml_escape(v.metric) + " (" +
           (v.maximize ? "higher" : "lower") + " is better), as the best trial is chosen.</p>\n";
  if (cost.best_trial < 0) {
    s.html += missing_line("no best configuration: no trial has a final result yet");
    return s;
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t k = 0; k < v.ranked.size() && static_cast<int>(rows.size()) < options.max_table_rows; ++k) {
    const TrialView& t = v.trials[v.ranked[k]];
    if (t.final_budget < 0) break;
    rows.push_back({std::to_string(rows.size() + 1), std::to_string(t.record->id) + (k == 0 ? " (best)" : ""),
                    cell(t.final_value, "%.6g"), std::to_string(t.final_budget), trial_status_name(t.record->status),
                    xml_escape(t.record->hparams.to_string())});
  }
  s.html += html_table("best", {"rank", "trial", xml_escape(v.metric), "budget (steps)", "status", "hyperparameters"},
                       rows, {true, true, true, true, false, false});
  return s;
}

Section final_section(const ExperimentView& v, const RunCost& cost) {
  const ExperimentData& run = *v.run;
  if (run.finals.empty())
    return missing_section("final", "Test evaluation and forgetting",
                           run.info.schema_version < 3
                               ? "no /final table: the file's schema version " + std::to_string(run.info.schema_version) +
                                     " predates test evaluations (schema 3)"
                               : "no /final table: the experiment ran no test evaluation (experiment.final_eval)");
  Section s;
  s.name = "final";
  s.title = "Test evaluation and forgetting";
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : run.finals) {
    std::string test = cell(f.test_loss, "%.5g");
    if (std::isfinite(f.test_ci_low) && std::isfinite(f.test_ci_high))
      test += " [" + cell(f.test_ci_low, "%.5g") + ", " + cell(f.test_ci_high, "%.5g") + "]";
    rows.push_back({xml_escape(f.label), f.trial >= 0 ? std::to_string(f.trial) : "-", std::to_string(f.step),
                    cell(f.eval_loss, "%.5g"), test, std::to_string(f.test_documents), std::to_string(f.test_tokens),
                    std::to_string(f.bootstrap), cell(f.retention_loss, "%.5g"), xml_escape(f.hparams)});
  }
  s.html = html_table("final", {"row", "trial", "steps", "eval loss", "test loss (95% CI)", "documents", "tokens",
                                "bootstrap", "retention loss", "hyperparameters"},
                      rows, {false, true, true, true, true, true, true, true, true, false});
  s.html += "<p>Test loss: mean loss per counted test token; the interval is the bootstrap 95% percentile interval over "
            "test documents.</p>\n";
  if (!cost.has_base) {
    s.html += missing_line("no forgetting figure: /final has no \"base\" row (the model before tuning was not evaluated)");
  } else {
    std::string line = "Forgetting (base model before tuning -> best configuration): retention loss " +
                       cell(cost.base_retention_loss, "%.5g") + " -> " + cell(cost.best_retention_loss, "%.5g");
    if (std::isfinite(cost.base_retention_loss) && std::isfinite(cost.best_retention_loss))
      line += " (" + report_cells::num(cost.best_retention_loss - cost.base_retention_loss, "%+.4g") + ")";
    else
      line += " (no data.retention_corpus figure on both sides)";
    line += "; test loss " + cell(cost.base_test_loss, "%.5g") + " -> " + cell(cost.test_loss, "%.5g");
    s.html += "<p class=\"forgetting\">" + xml_escape(line) + "</p>\n";
  }
  return s;
}

Section failures_section(const ExperimentView& v, const HtmlReportOptions& options) {
  std::vector<const TrialRecord*> failed;
  for (const auto& t : v.run->trials)
    if (t.status == TrialStatus::Failed) failed.push_back(&t);
  if (failed.empty()) return missing_section("failures", "Failures", "no failures: no trial failed");
  Section s;
  s.name = "failures";
  s.title = "Failures";
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < failed.size() && static_cast<int>(i) < options.max_table_rows; ++i)
    rows.push_back({std::to_string(failed[i]->id), std::to_string(failed[i]->group), std::to_string(failed[i]->last_step),
                    xml_escape(failed[i]->reason.empty() ? "(no reason recorded)" : failed[i]->reason),
                    xml_escape(failed[i]->hparams.to_string())});
  s.html = "<p>" + std::to_string(failed.size()) + " failed trial" + (failed.size() == 1 ? "" : "s") +
           (static_cast<int>(failed.size()) > options.max_table_rows
                ? "; the first " + std::to_string(options.max_table_rows) + " are listed"
                : "") +
           ".</p>\n" +
           html_table("failures", {"trial", "group", "step", "reason", "hyperparameters"}, rows,
                      {true, true, true, false, false});
  return s;
}

}  // namespace html
}  // namespace mpitune
