// Shared report text (see report_sections.hpp).
#include "report_sections.hpp"

#include <cmath>

#include "mpitune/report/run_cost.hpp"
#include "report_cells.hpp"

namespace mpitune {
namespace report_sections {
namespace {

std::string or_unknown(const std::string& status) { return status.empty() ? "status unknown" : status; }

}  // namespace

const std::vector<TrialStatus>& all_statuses() {
  static const std::vector<TrialStatus> statuses = {TrialStatus::Pending,   TrialStatus::Running,
                                                    TrialStatus::Paused,    TrialStatus::Completed,
                                                    TrialStatus::EarlyStopped, TrialStatus::Stopped,
                                                    TrialStatus::Failed};
  return statuses;
}

std::map<TrialStatus, int> count_by_status(const ExperimentData& run) {
  std::map<TrialStatus, int> counts;
  for (const auto& t : run.trials) ++counts[t.status];
  return counts;
}

std::string status_counts_text(const std::map<TrialStatus, int>& counts) {
  std::string out;
  for (TrialStatus s : all_statuses())
    if (counts.count(s))
      out += (out.empty() ? "" : ", ") + std::string(trial_status_name(s)) + " " + std::to_string(counts.at(s));
  return out;
}

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  if (seconds < 59.5) return report_cells::num(seconds, "%.0f") + " s";
  const long minutes = std::lround(seconds / 60.0);
  if (minutes < 60) return std::to_string(minutes) + " min";
  const std::string mm = std::to_string(minutes % 60);
  return std::to_string(minutes / 60) + " h " + (mm.size() < 2 ? "0" : "") + mm + " min";
}

std::string segments_line(const ExperimentData& run) {
  const JobsSummary j = summarize_jobs(run);
  if (j.jobs < 2) return "";
  const int interruptions = j.jobs - 1;
  std::string s = "- segments: " + std::to_string(j.jobs) + " jobs: " + or_unknown(j.last_status) + " after " +
                  std::to_string(interruptions) + (interruptions == 1 ? " interruption" : " interruptions");
  if (j.aborted > 0) s += " (" + std::to_string(j.aborted) + (interruptions == 1 ? " aborted" : " of them aborted") + ")";
  return s + ", " + duration_text(j.compute_s) + " of compute over " + duration_text(j.wall_s) + " of wall time\n";
}

std::string column_definitions(bool aggregate) {
  std::string out;
  if (aggregate)
    out += "Each cell is the median over the experiment's runs (files of one experiment name) with the "
           "interquartile range [25%, 75%]; runs: how many files; (k of n): only k runs have the figure. "
           "The reference's medians are the reference of the ratios and of the quality-aware columns.\n\n";
  out += "- best at full budget: the best trial's final result (its last reported value of the metric) among the "
         "trials whose final result is at the experiment's full budget (max_t steps; an early-stopped trial's "
         "counts as full); when no trial reached it, the best at the largest budget any trial reached, flagged "
         "\"(N steps)\". The trial experiment.keep = best keeps and the test evaluation uses.\n";
  out += "- best at any step: the best value of the metric in any metric report (any trial, any step), which "
         "may be an early value its trial did not keep.\n";
  out += "- test loss (95% CI): mean loss per test token of the best configuration on the test split, from "
         "/final (the \"retrain\" row when the best configuration was retrained, else \"best\"), with its "
         "bootstrap 95% interval over test documents";
  out += aggregate ? " (here: the median of the runs' test losses and their IQR)" : "";
  out += "; - without a test evaluation.\n";
  out += "- time to best (s): seconds from the experiment's start to the metric report of the best trial's final "
         "result (of an experiment resumed in several jobs, less the time between the jobs).\n";
  out += "- devices: the accelerators the trials ran on (GPUs on CUDA, else worker ranks); the coordinator, "
         "rank 0, is not counted.\n";
  out += "- device-min to best: devices x time to best / 60.\n";
  out += "- device-min total: devices x the experiment's elapsed wall time / 60 (from /summary; without one, to "
         "the last recorded row; of a resumed experiment, summed over its jobs, each with its devices).\n";
  out += "- cost vs reference: device-min to best / the reference's (below 1.00 is cheaper); blank without a "
         "reference, - when either is undefined.\n";
  out += "- time to reference best (s), device-min to reference best: from the start to the first metric report "
         "(any trial, any step) at least as good as the reference's best at full budget, in seconds and in "
         "devices x seconds / 60; \"not reached\" when no report is";
  out += aggregate ? " (a run that did not reach it counts as slower than any that did)" : "";
  out += "; blank without a reference.\n\n";
  return out;
}

std::string significance_intro(int resamples, uint64_t seed) {
  return "Paired bootstrap over the test documents (" + std::to_string(resamples) + " resamples, seed " +
         std::to_string(seed) +
         "): each experiment's test loss minus the reference's, its 95% interval and the two-sided p-value; "
         "lower is better. Only experiments evaluated on the same test documents are compared.\n\n";
}

std::string comparison_text(const TestComparison& c) {
  using report_cells::num;
  if (c.outcome != ComparisonOutcome::Compared) return c.detail + "; no paired comparison";
  const BootstrapInterval& d = c.paired.difference;
  return num(d.estimate, "%+.4g") + " [" + num(d.low, "%+.4g") + ", " + num(d.high, "%+.4g") +
         "], p = " + num(c.paired.p_value, "%.2g") + ": " + verdict(c) + " (" + std::to_string(c.documents) +
         " test documents, " + c.label + " vs the reference's " + c.reference_label + ")";
}

}  // namespace report_sections
}  // namespace mpitune
