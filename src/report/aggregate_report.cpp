// The aggregated report: one row per experiment name, median [IQR] over its files (see
// aggregate_report.hpp).
#include "aggregate_report.hpp"

#include <cmath>
#include <functional>
#include <limits>

#include "mpitune/report/spread.hpp"
#include "report_cells.hpp"
#include "report_sections.hpp"

namespace mpitune {
namespace {

using report_cells::csv;
using report_cells::md;
using report_cells::num;
using report_cells::or_dash;

constexpr double kNotReached = std::numeric_limits<double>::infinity();

struct Group {
  std::string name;
  bool is_reference = false;
  std::vector<const ReportRow*> runs;
};

std::vector<Group> group_rows(const ReportRows& rows) {
  std::vector<Group> groups;
  for (const auto& row : rows.rows) {
    Group* g = nullptr;
    for (auto& candidate : groups)
      if (candidate.name == row.cost.name && candidate.is_reference == row.is_reference) g = &candidate;
    if (!g) {
      groups.push_back({row.cost.name, row.is_reference, {}});
      g = &groups.back();
    }
    g->runs.push_back(&row);
  }
  return groups;
}

// One numeric figure of a run, as aggregated.
struct Figure {
  const char* csv_name;
  std::function<double(const ReportRows&, const ReportRow&)> value;
};

// A run that did not reach the reference's best counts as infinitely slow (spread.hpp); without
// a reference best there is nothing to reach (NaN).
double reach_value(const ReportRows& rows, const ReportRow& row, double reached_value) {
  if (!rows.have_reference || std::isnan(rows.reference_best)) return kNaN;
  return row.reach.reached ? reached_value : kNotReached;
}

const std::vector<Figure>& figures() {
  static const std::vector<Figure> list = {
      {"best", [](const ReportRows&, const ReportRow& r) { return r.cost.best; }},
      {"best_any", [](const ReportRows&, const ReportRow& r) { return r.cost.best_any; }},
      {"test_loss", [](const ReportRows&, const ReportRow& r) { return r.cost.test_loss; }},
      {"time_to_best_s", [](const ReportRows&, const ReportRow& r) { return r.cost.time_to_best_s; }},
      {"devices", [](const ReportRows&, const ReportRow& r) { return static_cast<double>(r.cost.devices); }},
      {"device_minutes_to_best", [](const ReportRows&, const ReportRow& r) { return r.cost.device_minutes_to_best; }},
      {"device_minutes_total", [](const ReportRows&, const ReportRow& r) { return r.cost.device_minutes_total; }},
      {"cost_ratio", [](const ReportRows&, const ReportRow& r) { return r.ratio; }},
      {"time_to_reference_s",
       [](const ReportRows& rows, const ReportRow& r) { return reach_value(rows, r, r.reach.time_s); }},
      {"device_minutes_to_reference",
       [](const ReportRows& rows, const ReportRow& r) { return reach_value(rows, r, r.reach.device_minutes); }},
      {"base_test_loss", [](const ReportRows&, const ReportRow& r) { return r.cost.base_test_loss; }},
      {"base_retention_loss", [](const ReportRows&, const ReportRow& r) { return r.cost.base_retention_loss; }},
      {"best_retention_loss", [](const ReportRows&, const ReportRow& r) { return r.cost.best_retention_loss; }},
  };
  return list;
}

Spread spread_of_figure(const ReportRows& rows, const Group& g, const char* csv_name) {
  for (const auto& f : figures())
    if (std::string(f.csv_name) == csv_name) {
      std::vector<double> values;
      for (const ReportRow* r : g.runs) values.push_back(f.value(rows, *r));
      return spread_of(values);
    }
  return Spread{};
}

std::string value_text(double v, const char* format) {
  if (std::isinf(v)) return "not reached";
  return num(v, format);
}

// "2.1 [2.0, 2.3]", "- " when no run has it, "(k of n)" when only some do.
std::string spread_cell(const Spread& s, size_t runs, const char* format) {
  if (s.count == 0) return "-";
  std::string cell = value_text(s.median, format);
  if (s.count > 1) cell += " [" + value_text(s.q25, format) + ", " + value_text(s.q75, format) + "]";
  if (static_cast<size_t>(s.count) < runs) cell += " (" + std::to_string(s.count) + " of " + std::to_string(runs) + ")";
  return cell;
}

std::string joined_distinct(const Group& g, const std::function<std::string(const ReportRow&)>& of) {
  std::vector<std::string> seen;
  for (const ReportRow* r : g.runs) {
    const std::string v = of(*r);
    bool known = false;
    for (const auto& s : seen) known = known || s == v;
    if (!known) seen.push_back(v);
  }
  std::string out;
  for (const auto& s : seen) out += (out.empty() ? "" : "/") + s;
  return out;
}

std::string runs_text(size_t n) { return std::to_string(n) + (n == 1 ? " run" : " runs"); }

int lower_budget_runs(const Group& g) {
  int n = 0;
  for (const ReportRow* r : g.runs) n += r->cost.best_trial >= 0 && !r->cost.best_at_full_budget;
  return n;
}

int reached_runs(const Group& g) {
  int n = 0;
  for (const ReportRow* r : g.runs) n += r->reach.reached;
  return n;
}

// Every run of a group against every reference run.
struct GroupComparison {
  int better = 0, worse = 0, same = 0, not_compared = 0;
  std::vector<double> differences;
  std::string why_not;  // the first reason a pair was not compared
};

GroupComparison compare_group(const Group& g, const std::vector<const ReportRow*>& reference_runs,
                              const ReportOptions& options) {
  GroupComparison out;
  for (const ReportRow* r : g.runs)
    for (const ReportRow* ref : reference_runs) {
      const TestComparison c =
          compare_test_losses(*r->run, *ref->run, options.bootstrap_resamples, options.bootstrap_seed);
      if (c.outcome != ComparisonOutcome::Compared) {
        ++out.not_compared;
        if (out.why_not.empty()) out.why_not = c.detail;
        continue;
      }
      out.differences.push_back(c.paired.difference.estimate);
      if (!significant(c)) ++out.same;
      else if (c.paired.difference.estimate < 0) ++out.better;
      else ++out.worse;
    }
  return out;
}

// Every reference run, whatever its experiment name.
std::vector<const ReportRow*> reference_runs(const std::vector<Group>& groups) {
  std::vector<const ReportRow*> out;
  for (const auto& g : groups)
    if (g.is_reference) out.insert(out.end(), g.runs.begin(), g.runs.end());
  return out;
}

// ---- Markdown ----

void md_table(std::string& out, const ReportRows& rows, const std::vector<Group>& groups) {
  out += "## Cost to the best result (median [25%, 75%] over runs)\n\n";
  out += "| experiment | runs | method | metric | best at full budget | best at any step | test loss | "
         "time to best (s) | devices | device-min to best | device-min total | cost vs reference | "
         "time to reference best (s) | device-min to reference best |\n";
  out += "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& g : groups) {
    const size_t n = g.runs.size();
    auto cell = [&](const char* name, const char* format) { return spread_cell(spread_of_figure(rows, g, name), n, format); };
    std::string best = cell("best", "%.5g");
    if (const int lower = lower_budget_runs(g)) best += " (" + std::to_string(lower) + " at a lower budget)";
    std::string reach_time, reach_minutes;
    if (rows.have_reference) {
      const std::string reached = " (" + std::to_string(reached_runs(g)) + "/" + std::to_string(n) + " reached)";
      reach_time = std::isnan(rows.reference_best) ? "-" : cell("time_to_reference_s", "%.1f") + reached;
      reach_minutes = std::isnan(rows.reference_best) ? "-" : cell("device_minutes_to_reference", "%.2f");
    }
    out += "| " + md(g.name) + (g.is_reference ? " (reference)" : "") + " | " + std::to_string(n) + " | " +
           md(joined_distinct(g, [](const ReportRow& r) { return r.cost.method; })) + " | " +
           md(joined_distinct(g, [](const ReportRow& r) { return r.cost.metric + " (" + r.cost.mode + ")"; })) +
           " | " + best + " | " + cell("best_any", "%.5g") + " | " + cell("test_loss", "%.5g") + " | " +
           cell("time_to_best_s", "%.1f") + " | " + cell("devices", "%g") + " | " +
           cell("device_minutes_to_best", "%.2f") + " | " + cell("device_minutes_total", "%.2f") + " | " +
           (rows.have_reference ? cell("cost_ratio", "%.2f") : "") + " | " + reach_time + " | " + reach_minutes +
           " |\n";
  }
  out += "\n" + report_sections::column_definitions(true);
}

void md_significance(std::string& out, const std::vector<Group>& groups, const ReportOptions& options) {
  const std::vector<const ReportRow*> references = reference_runs(groups);
  bool any_other = false, any_test = false;  // nothing to say without a test evaluation at all
  for (const auto& g : groups) {
    any_other = any_other || !g.is_reference;
    for (const ReportRow* r : g.runs) any_test = any_test || test_row(*r->run) != nullptr;
  }
  if (references.empty() || !any_other || !any_test || options.bootstrap_resamples == 0) return;
  out += "## Test loss against the reference\n\n";
  out += report_sections::significance_intro(options.bootstrap_resamples, options.bootstrap_seed);
  out += "Every run is compared with every reference run.\n\n";
  for (const auto& g : groups) {
    if (g.is_reference) continue;
    const GroupComparison c = compare_group(g, references, options);
    const int pairs = c.better + c.worse + c.same + c.not_compared;
    out += "- " + g.name + " (" + runs_text(g.runs.size()) + "), " + std::to_string(pairs) + " pairs: ";
    if (c.differences.empty()) {
      out += "no paired comparison: " + c.why_not + "\n";
      continue;
    }
    const Spread d = spread_of(c.differences);
    out += std::to_string(c.better) + " better than the reference, significant at 5%; " + std::to_string(c.same) +
           " no significant difference; " + std::to_string(c.worse) + " worse, significant at 5%";
    if (c.not_compared) out += "; " + std::to_string(c.not_compared) + " not compared (" + c.why_not + ")";
    out += "; median difference " + num(d.median, "%+.4g") + " [" + num(d.q25, "%+.4g") + ", " +
           num(d.q75, "%+.4g") + "]\n";
  }
  out += "\n";
}

void md_per_experiment(std::string& out, const ReportRows& rows, const std::vector<Group>& groups) {
  out += "## Runs\n\n";
  for (const auto& g : groups) {
    out += "### " + g.name + (g.is_reference ? ", the reference" : "") + " (" + runs_text(g.runs.size()) + ")\n\n";
    out += "- best at full budget per run:";
    for (const ReportRow* r : g.runs) {
      const RunCost& c = r->cost;
      out += " " + r->file + " " + or_dash(num(c.best, "%.5g"));
      if (c.best_trial >= 0 && !c.best_at_full_budget)
        out += " (best at a lower budget (" + std::to_string(c.best_budget) + " steps))";
      if (!std::isnan(c.test_loss)) out += ", test " + num(c.test_loss, "%.5g");
      out += r == g.runs.back() ? "\n" : ";";
    }
    const Spread base_retention = spread_of_figure(rows, g, "base_retention_loss");
    const Spread best_retention = spread_of_figure(rows, g, "best_retention_loss");
    const Spread base_test = spread_of_figure(rows, g, "base_test_loss");
    const size_t n = g.runs.size();
    if (base_retention.count > 0 || base_test.count > 0)
      out += "- forgetting (base model before tuning -> best configuration): retention loss " +
             spread_cell(base_retention, n, "%.5g") + " -> " + spread_cell(best_retention, n, "%.5g") +
             "; test loss " + spread_cell(base_test, n, "%.5g") + " -> " +
             spread_cell(spread_of_figure(rows, g, "test_loss"), n, "%.5g") + "\n";
    std::map<TrialStatus, int> counts;
    size_t trials = 0;
    for (const ReportRow* r : g.runs) {
      for (const auto& [status, k] : report_sections::count_by_status(*r->run)) counts[status] += k;
      trials += r->run->trials.size();
    }
    const std::string by_status = report_sections::status_counts_text(counts);
    out += "- trials, all runs: " + std::to_string(trials) + (by_status.empty() ? "" : " (" + by_status + ")") +
           "\n\n";
  }
}

// ---- CSV ----

void csv_table(std::string& out, const ReportRows& rows, const std::vector<Group>& groups,
               const ReportOptions& options) {
  out += "experiment,reference,runs,files,method,metric,mode";
  for (const auto& f : figures())
    for (const char* part : {"_median", "_q25", "_q75", "_runs"}) out += std::string(",") + f.csv_name + part;
  out += ",lower_budget_runs,reached_reference_runs,test_pairs,test_better,test_no_difference,test_worse,"
         "test_not_compared,test_diff_median,test_diff_q25,test_diff_q75\n";
  const std::vector<const ReportRow*> references = reference_runs(groups);
  for (const auto& g : groups) {
    std::string files;
    for (const ReportRow* r : g.runs) files += (files.empty() ? "" : ";") + r->file;
    out += csv(g.name) + "," + (g.is_reference ? "1" : "0") + "," + std::to_string(g.runs.size()) + "," +
           csv(files) + "," + csv(joined_distinct(g, [](const ReportRow& r) { return r.cost.method; })) + "," +
           csv(joined_distinct(g, [](const ReportRow& r) { return r.cost.metric; })) + "," +
           csv(joined_distinct(g, [](const ReportRow& r) { return r.cost.mode; }));
    for (const auto& f : figures()) {
      const Spread s = spread_of_figure(rows, g, f.csv_name);
      // Not reached is written "inf", which pandas and Python read as infinity.
      for (double v : {s.median, s.q25, s.q75}) out += "," + (std::isinf(v) ? std::string("inf") : num(v, "%.10g"));
      out += "," + std::to_string(s.count);
    }
    out += "," + std::to_string(lower_budget_runs(g)) + "," +
           (rows.have_reference ? std::to_string(reached_runs(g)) : "");
    if (!references.empty() && !g.is_reference && options.bootstrap_resamples > 0) {
      const GroupComparison c = compare_group(g, references, options);
      const Spread d = spread_of(c.differences);
      out += "," + std::to_string(c.better + c.worse + c.same + c.not_compared) + "," + std::to_string(c.better) +
             "," + std::to_string(c.same) + "," + std::to_string(c.worse) + "," + std::to_string(c.not_compared) +
             "," + num(d.median, "%.10g") + "," + num(d.q25, "%.10g") + "," + num(d.q75, "%.10g");
    } else {
      out += ",,,,,,,,";
    }
    out += "\n";
  }
}

}  // namespace

std::string format_aggregate_report(const ReportRows& rows, const ReportOptions& options) {
  const std::vector<Group> groups = group_rows(rows);
  std::string out;
  if (options.format == ReportFormat::Csv) {
    csv_table(out, rows, groups, options);
    return out;
  }
  md_table(out, rows, groups);
  md_significance(out, groups, options);
  md_per_experiment(out, rows, groups);
  return out;
}

}  // namespace mpitune
