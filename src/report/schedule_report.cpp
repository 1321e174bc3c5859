#include "mpitune/report/schedule_report.hpp"

#include <cmath>
#include <map>
#include <set>

namespace mpitune {
namespace {

double metric_of(const ExperimentData& run, const MetricRecord& m) {
  return run.info.metric == "train_loss" ? m.train_loss : m.eval_loss;
}

std::string hparams_of(const ExperimentData& run, TrialId id) {
  for (const auto& t : run.trials)
    if (t.id == id) return t.hparams.to_string();
  return "?";
}

}  // namespace

std::vector<BudgetCount> budget_counts(const ExperimentData& run) {
  std::map<TrialId, int> bracket_of;
  std::set<int64_t> decision_steps;
  for (const auto& d : run.decisions) {
    if (d.action == "start") bracket_of[d.trial] = d.bracket;
    if (d.action != "start" && d.action != "fail" && d.action != "clone") decision_steps.insert(d.step);
  }
  std::map<std::pair<int, int64_t>, std::set<TrialId>> seen;
  for (const auto& m : run.metrics) {
    if (!std::isfinite(metric_of(run, m)) || !decision_steps.count(m.step)) continue;
    auto b = bracket_of.find(m.trial);
    seen[{b == bracket_of.end() ? -1 : b->second, m.step}].insert(m.trial);
  }
  std::vector<BudgetCount> out;
  for (const auto& [key, trials] : seen)
    out.push_back(BudgetCount{key.first, key.second, static_cast<int64_t>(trials.size())});
  return out;
}

std::vector<ScheduleSpan> pbt_schedule(const ExperimentData& run, TrialId trial) {
  int64_t end = 0;
  for (const auto& t : run.trials)
    if (t.id == trial) end = t.last_step;
  // Walk back through the transfers (newest first): the weights of `cur` from `step` on were
  // trained by `cur` with `hp`; before that they came from the transfer's source.
  std::vector<ScheduleSpan> back;
  TrialId cur = trial;
  std::string hp = hparams_of(run, trial);
  int64_t to = end;
  for (size_t i = run.transfers.size(); i-- > 0;) {
    const TransferRecord& x = run.transfers[i];
    if (x.target_trial != cur || x.step > to) continue;
    back.push_back(ScheduleSpan{x.step, to, cur, x.new_hparams.empty() ? hp : x.new_hparams});
    cur = x.source_trial;
    hp = x.old_hparams;
    to = x.step;
  }
  back.push_back(ScheduleSpan{0, to, cur, hp.empty() ? hparams_of(run, cur) : hp});
  return std::vector<ScheduleSpan>(back.rbegin(), back.rend());
}

std::string format_budget_table(const ExperimentData& run) {
  const auto counts = budget_counts(run);
  if (counts.empty()) return "";
  std::string out = "### " + run.info.name + ": trials evaluated at each budget\n\n";
  const bool brackets = counts.front().bracket >= 0;
  out += brackets ? "| bracket | budget (steps) | trials |\n|---:|---:|---:|\n"
                  : "| budget (steps) | trials |\n|---:|---:|\n";
  for (const auto& c : counts)
    out += (brackets ? "| " + std::to_string(c.bracket) + " " : "") + "| " + std::to_string(c.budget) + " | " +
           std::to_string(c.trials) + " |\n";
  return out + "\n";
}

std::string format_pbt_schedule(const ExperimentData& run, TrialId trial) {
  if (run.transfers.empty() || trial < 0) return "";
  std::string out = "### " + run.info.name + ": hyperparameter schedule of trial " + std::to_string(trial) + "\n\n";
  out += "| steps | weights trained by trial | hyperparameters |\n|---|---:|---|\n";
  for (const auto& s : pbt_schedule(run, trial))
    out += "| " + std::to_string(s.from_step) + "-" + std::to_string(s.to_step) + " | " +
           std::to_string(s.weights_of) + " | " + s.hparams + " |\n";
  return out + "\n";
}

}  // namespace mpitune
