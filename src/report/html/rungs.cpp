// The rung diagram of ASHA, Hyperband and BOHB: per bracket (one row; ASHA has one), a bar per
// rung whose height is the trials evaluated at that budget, and between rungs how many of them
// were promoted (evaluated at the next budget too). Counts are schedule_report.hpp's
// budget_counts, so the page and the text report agree (see sections.hpp).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "mpitune/report/schedule_report.hpp"
#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace html {

Section rung_section(const ExperimentView& v) {
  const ExperimentData& run = *v.run;
  const std::string name = "rungs", title = "Rungs and promotions";
  const std::string& sched = run.info.scheduler;
  bool has_rungs = sched == "asha" || sched == "hyperband" || sched == "bohb";
  if (sched.empty())
    for (const auto& d : run.decisions) has_rungs = has_rungs || d.rung >= 0;
  if (!has_rungs)
    return missing_section(name, title,
                           "no rung diagram: the " + (sched.empty() ? std::string("experiment's") : sched) +
                               " scheduler has no successive-halving rungs");
  const std::vector<BudgetCount> counts = budget_counts(run);
  if (counts.empty()) return missing_section(name, title, "no rung diagram: /decisions has no rung decision yet");

  // Which trials were evaluated at each (bracket, budget): the same rule as budget_counts.
  std::map<TrialId, int> bracket_of;
  std::set<int64_t> decision_steps;
  for (const auto& d : run.decisions) {
    if (d.action == "start") bracket_of[d.trial] = d.bracket;
    if (d.action != "start" && d.action != "fail" && d.action != "clone") decision_steps.insert(d.step);
  }
  std::map<std::pair<int, int64_t>, std::set<TrialId>> at;
  for (const auto& t : v.trials)
    for (const auto& p : t.series)
      if (decision_steps.count(p.step)) {
        auto b = bracket_of.find(t.record->id);
        at[{b == bracket_of.end() ? -1 : b->second, p.step}].insert(t.record->id);
      }

  std::set<int> brackets;
  std::set<int64_t> budgets;
  int64_t most = 1;
  for (const auto& c : counts) {
    brackets.insert(c.bracket);
    budgets.insert(c.budget);
    most = std::max(most, c.trials);
  }
  const std::vector<int64_t> budget_list(budgets.begin(), budgets.end());
  const double row = 90, left = 110, top = 34, col = std::max(70.0, std::min(130.0, 620.0 / budget_list.size()));
  const double width = left + col * budget_list.size() + 20, height = top + row * brackets.size() + 44;
  SvgFigure svg(width, height, "rungs",
                "data-brackets=\"" + std::to_string(brackets.size()) + "\" data-rungs=\"" + std::to_string(counts.size()) + "\"");
  svg.text(10, 18, display_name(run) + ": trials evaluated at each budget, and promotions", "plot-title");
  for (size_t k = 0; k < budget_list.size(); ++k)
    svg.text(left + col * (k + 0.5), height - 24, std::to_string(budget_list[k]), "tick-label", "middle");
  svg.text(left + col * budget_list.size() / 2, height - 6, "budget (training steps)", "axis-label x-label", "middle");
  int r = 0;
  int64_t promotions_total = 0;
  for (int b : brackets) {
    const double y0 = top + row * r++;
    svg.text(left - 10, y0 + row / 2, b < 0 ? "all trials" : "bracket " + std::to_string(b), "lane-label", "end");
    std::vector<const BudgetCount*> mine;
    for (const auto& c : counts)
      if (c.bracket == b) mine.push_back(&c);
    for (size_t i = 0; i < mine.size(); ++i) {
      const size_t k = std::find(budget_list.begin(), budget_list.end(), mine[i]->budget) - budget_list.begin();
      const double h = std::max(2.0, (row - 30) * std::sqrt(static_cast<double>(mine[i]->trials) / most));
      const double cx = left + col * (k + 0.5);
      svg.rect(cx - 16, y0 + row - 10 - h, 32, h, "rung", "fill:#0072B2",
               std::to_string(mine[i]->trials) + " trials at " + std::to_string(mine[i]->budget) + " steps",
               "data-trials=\"" + std::to_string(mine[i]->trials) + "\"");
      svg.text(cx, y0 + row - 14 - h, std::to_string(mine[i]->trials), "count-label", "middle");
      if (i + 1 < mine.size()) {
        const auto& here = at[{b, mine[i]->budget}];
        const auto& next = at[{b, mine[i + 1]->budget}];
        int64_t promoted = 0;
        for (TrialId t : next) promoted += here.count(t);
        promotions_total += promoted;
        const size_t k2 = std::find(budget_list.begin(), budget_list.end(), mine[i + 1]->budget) - budget_list.begin();
        const double x1 = cx + 18, x2 = left + col * (k2 + 0.5) - 18, ym = y0 + row - 18;
        svg.line(x1, ym, x2, ym, "promotion", "stroke:#E69F00;stroke-width:2",
                 std::to_string(promoted) + " promoted");
        svg.polygon({{x2, ym}, {x2 - 6, ym - 4}, {x2 - 6, ym + 4}}, "arrow", "fill:#E69F00");
        svg.text((x1 + x2) / 2, ym - 5, std::to_string(promoted), "promotion-label", "middle");
      }
    }
  }
  Section s;
  s.name = name;
  s.title = title;
  Figure f;
  f.name = "rungs";
  f.svg = svg.finish();
  f.caption = "Blue bars: trials evaluated at each rung budget (bar height grows with the square root of the count); "
              "orange arrows: trials promoted to the next rung (" +
              std::to_string(promotions_total) + " promotions in all), from /decisions and /metrics.";
  s.figures.push_back(f);
  return s;
}

}  // namespace html
}  // namespace mpitune
