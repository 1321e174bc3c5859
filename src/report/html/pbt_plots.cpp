// PBT: the lineage of the population and the best trial's hyperparameter schedule (see
// sections.hpp).
//
// Lineage: one lane per trial (x: training step); each /pbt_transfers row is a line from the
// source's lane to the target's at the step of the clone, ending in a dot on the target: its
// weights were replaced by the source's there. The path the best trial's final weights took
// (schedule_report.hpp's pbt_schedule) is drawn bold in vermillion across the lanes, so "who
// cloned whom, when" reads as a family tree of the final result. The schedule: a step plot per
// numeric hyperparameter of the values those weights were trained with.
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "mpitune/report/schedule_report.hpp"
#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace html {
namespace {

// "lr=0.001 wd=0.5" -> values (HParams::to_string's form).
std::map<std::string, ParamValue> parse_hparams(const std::string& text) {
  std::map<std::string, ParamValue> out;
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    const size_t eq = token.find('=');
    if (eq != std::string::npos) out[token.substr(0, eq)] = ParamValue::parse(token.substr(eq + 1));
  }
  return out;
}

Figure lineage_figure(const ExperimentView& v, const std::vector<ScheduleSpan>& path) {
  const ExperimentData& run = *v.run;
  const size_t max_lanes = 64;
  std::vector<size_t> lanes(v.ranked.begin(), v.ranked.begin() + std::min(max_lanes, v.ranked.size()));
  std::sort(lanes.begin(), lanes.end(), [&](size_t a, size_t b) { return v.trials[a].record->id < v.trials[b].record->id; });
  std::map<TrialId, int> lane_of;
  int64_t last = 1;
  for (size_t i = 0; i < lanes.size(); ++i) {
    lane_of[v.trials[lanes[i]].record->id] = static_cast<int>(i);
    last = std::max(last, v.trials[lanes[i]].record->last_step);
  }
  for (const auto& x : run.transfers) last = std::max(last, x.step);
  const double lane_h = lanes.size() > 24 ? 9 : 20;
  Chart c("pbt-lineage", display_name(run) + ": who cloned whom, when", "training step", "trial",
          {0, static_cast<double>(last)}, {-0.5, lanes.size() - 0.5}, false, false, "", 760,
          30 + 48 + lane_h * lanes.size(), 150);
  // The y axis is lanes, not numbers: write the trial ids instead of numeric ticks.
  c.svg.open_group("axes");
  c.svg.rect(c.left, c.top, c.right - c.left, c.bottom - c.top, "frame", "");
  for (double t : ticks(0, static_cast<double>(last), false)) {
    c.svg.line(c.x(t), c.top, c.x(t), c.bottom, "grid", "");
    c.svg.text(c.x(t), c.bottom + 18, short_number(t), "tick-label", "middle");
  }
  c.svg.text((c.left + c.right) / 2, c.svg.height() - 10, "training step", "axis-label x-label", "middle");
  c.svg.text(16, (c.top + c.bottom) / 2, "trial", "axis-label y-label", "middle", -90);
  c.svg.text(c.left, 18, display_name(run) + ": who cloned whom, when", "plot-title");
  c.svg.close_group();
  const bool label_all = lanes.size() <= 24;
  for (size_t i = 0; i < lanes.size(); ++i) {
    const TrialRecord& t = *v.trials[lanes[i]].record;
    const double y = c.y(static_cast<double>(i));
    c.svg.line(c.x(0), y, c.x(static_cast<double>(t.last_step)), y, "lane", "stroke:#9a9a9a;stroke-width:1.2",
               "trial " + std::to_string(t.id));
    if (label_all || i % 4 == 0) c.svg.text(c.left - 6, y + 4, std::to_string(t.id), "tick-label", "end");
  }
  int drawn = 0;
  for (const auto& x : run.transfers) {
    auto s = lane_of.find(x.source_trial), t = lane_of.find(x.target_trial);
    if (s == lane_of.end() || t == lane_of.end()) continue;
    const double px = c.x(static_cast<double>(x.step));
    c.svg.line(px, c.y(s->second), px, c.y(t->second), "transfer", "stroke:#56B4E9;stroke-width:1.3",
               "step " + std::to_string(x.step) + ": trial " + std::to_string(x.source_trial) + " (group " +
                   std::to_string(x.source_group) + ") -> trial " + std::to_string(x.target_trial) + " (group " +
                   std::to_string(x.target_group) + ")");
    c.svg.circle(px, c.y(t->second), 2.5, "clone-mark", "fill:#0072B2");
    ++drawn;
  }
  // The best trial's ancestry.
  std::vector<std::pair<double, double>> best;
  for (const auto& span : path) {
    auto l = lane_of.find(span.weights_of);
    if (l == lane_of.end()) continue;
    best.push_back({c.x(static_cast<double>(span.from_step)), c.y(l->second)});
    best.push_back({c.x(static_cast<double>(span.to_step)), c.y(l->second)});
  }
  if (!best.empty()) {
    c.svg.polyline(best, "ancestry", "fill:none;stroke:#D55E00;stroke-width:3");
    c.legend("best's weights", "#D55E00", false, 3);
  }
  c.legend("clone, dot: target", "#56B4E9", false, 1.3);
  Figure f;
  f.name = "pbt_lineage";
  f.svg = c.svg.finish();
  f.caption = std::to_string(run.transfers.size()) + " transfers in /pbt_transfers; " + std::to_string(drawn) +
              " drawn between the " + std::to_string(lanes.size()) + " trials shown" +
              (v.ranked.size() > max_lanes ? " (the best " + std::to_string(max_lanes) + " by final result)" : "") +
              ". Bold: the trials whose training the best trial's final weights carry.";
  return f;
}

}  // namespace

Section pbt_section(const ExperimentView& v) {
  const ExperimentData& run = *v.run;
  const std::string name = "pbt", title = "PBT lineage and schedule";
  if (run.transfers.empty())
    return missing_section(name, title,
                           run.info.scheduler == "pbt"
                               ? "no lineage: /pbt_transfers is empty (no trial has been cloned yet)"
                               : "no lineage: no /pbt_transfers rows (the " +
                                     (run.info.scheduler.empty() ? std::string("experiment's") : run.info.scheduler) +
                                     " scheduler does not clone trials)");
  Section s;
  s.name = name;
  s.title = title;
  const TrialId best = v.best.trial;
  const std::vector<ScheduleSpan> path = best >= 0 ? pbt_schedule(run, best) : std::vector<ScheduleSpan>{};
  s.figures.push_back(lineage_figure(v, path));
  if (path.empty()) {
    s.html = missing_line("no schedule: no trial has a final result yet");
    return s;
  }
  std::vector<std::map<std::string, ParamValue>> values;
  for (const auto& span : path) values.push_back(parse_hparams(span.hparams));
  int plotted = 0;
  for (const auto& d : v.domains) {
    if (d.is_categorical()) continue;
    std::vector<std::pair<double, double>> steps;  // (step, value)
    for (size_t i = 0; i < path.size(); ++i) {
      auto it = values[i].find(d.name);
      if (it == values[i].end() || !it->second.is_numeric()) continue;
      steps.push_back({static_cast<double>(path[i].from_step), it->second.as_double()});
      steps.push_back({static_cast<double>(path[i].to_step), it->second.as_double()});
    }
    if (steps.empty()) continue;
    const bool log = d.kind == DomainKind::LogUniform;
    std::vector<double> ys;
    for (const auto& p : steps) ys.push_back(p.second);
    Chart c("pbt-schedule", "trial " + std::to_string(best) + ": " + d.name, "training step", d.name,
            {0, std::max(1.0, steps.back().first)}, data_range(ys, log), false, log,
            "data-hparam=\"" + xml_escape(d.name) + "\"", 380, 220, 20);
    c.axes();
    std::vector<std::pair<double, double>> px;
    for (const auto& [x, y] : steps) px.push_back({c.x(x), c.y(y)});
    c.svg.polyline(px, "schedule", "fill:none;stroke:#D55E00;stroke-width:2.2");
    Figure f;
    f.name = "pbt_schedule_" + d.name;
    f.svg = c.svg.finish();
    f.caption = d.name + " of the best trial's weights over training (" + std::to_string(path.size()) + " spans" +
                (log ? "; log scale: log-uniform domain" : "") + ").";
    s.figures.push_back(f);
    ++plotted;
  }
  if (plotted == 0) s.html = missing_line("no schedule plot: the space has no numeric hyperparameter");
  return s;
}

}  // namespace html
}  // namespace mpitune
