// The per-group timeline (Gantt chart): which trial each group ran when, its idle gaps, and
// each group's utilisation (see sections.hpp).
//
// Where the file has /events (schema 4), the segments are exact: each SegmentDone,
// TrialFailed and Preempted message a group sent says how many wall seconds its segment took,
// and the event's time says when it ended. Older files (or events this build cannot decode)
// fall back on /trials: one bar from a trial's start to its end on the group that ran it last,
// which merges a paused trial's segments, as the caption then says. Utilisation is busy time
// over the span from the first segment's start to the last one's end.
#include <algorithm>
#include <cmath>
#include <map>

#include "mpitune/core/protocol.hpp"
#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace html {
namespace {

struct Bar {
  int group = -1;
  TrialId trial = -1;
  double start = 0, end = 0;
  std::string outcome;  // "done" | "failed" | "preempted" | "trial"
};

// Segments from the /events messages; `ok` false when any message could not be decoded (an
// older protocol version): the caller then uses /trials.
std::vector<Bar> bars_from_events(const ExperimentData& run, bool& ok) {
  std::vector<Bar> out;
  ok = true;
  for (const auto& e : run.events) {
    if (e.kind != "message" || e.data.empty()) continue;
    try {
      const Message m = decode(e.data);
      if (const auto* d = std::get_if<SegmentDoneMsg>(&m))
        out.push_back({d->group, d->trial, e.time - d->seconds, e.time, "done"});
      else if (const auto* f = std::get_if<TrialFailedMsg>(&m))
        out.push_back({f->group, f->trial, e.time - f->seconds, e.time, "failed"});
      else if (const auto* p = std::get_if<PreemptedMsg>(&m))
        if (p->trial >= 0) out.push_back({p->group, p->trial, e.time - p->seconds, e.time, "preempted"});
    } catch (const std::exception&) {
      ok = false;
      return {};
    }
  }
  return out;
}

std::vector<Bar> bars_from_trials(const ExperimentData& run) {
  std::vector<Bar> out;
  for (const auto& t : run.trials)
    if (t.group >= 0 && std::isfinite(t.start_time) && std::isfinite(t.end_time) && t.end_time >= t.start_time)
      out.push_back({t.group, t.id, t.start_time, t.end_time, "trial"});
  return out;
}

}  // namespace

Section timeline_section(const ExperimentView& v) {
  const ExperimentData& run = *v.run;
  const std::string name = "timeline", title = "Per-group timeline";
  bool from_events = false;
  std::vector<Bar> bars;
  if (!run.events.empty()) bars = bars_from_events(run, from_events);
  from_events = from_events && !bars.empty();
  if (!from_events) bars = bars_from_trials(run);
  if (bars.empty())
    return missing_section(name, title, "no timeline: neither /events nor /trials record when a group ran a trial yet");

  int groups = std::max(run.info.num_groups, static_cast<int>(run.groups.size()));
  double t0 = INFINITY, t1 = -INFINITY;
  for (const auto& b : bars) {
    groups = std::max(groups, b.group + 1);
    t0 = std::min(t0, b.start);
    t1 = std::max(t1, b.end);
  }
  if (std::isfinite(run.info.start_time) && run.info.start_time > 0 && run.info.start_time < t0 &&
      t0 - run.info.start_time < (t1 - t0) * 0.5)
    t0 = run.info.start_time;  // start-up before the first segment counts as idle
  const double span = std::max(1e-9, t1 - t0);

  // Busy seconds per group: the union of its bars (a group runs one segment at a time, but the
  // /trials fallback may overlap).
  std::map<int, std::vector<Bar>> by_group;
  for (const auto& b : bars) by_group[b.group].push_back(b);
  std::vector<double> busy(groups, 0);
  for (auto& [g, list] : by_group) {
    std::sort(list.begin(), list.end(), [](const Bar& a, const Bar& b) { return a.start < b.start; });
    double cur_s = -INFINITY, cur_e = -INFINITY;
    for (const auto& b : list) {
      if (b.start > cur_e) {
        if (cur_e > cur_s) busy[g] += cur_e - cur_s;
        cur_s = b.start;
        cur_e = b.end;
      } else {
        cur_e = std::max(cur_e, b.end);
      }
    }
    if (cur_e > cur_s) busy[g] += cur_e - cur_s;
  }
  double total_busy = 0;
  for (double b : busy) total_busy += b;

  const double lane = groups > 32 ? 10 : 18, left = 130, right_pad = 20, top = 30, width = 760;
  const double height = top + lane * groups + 50;
  const double right = width - right_pad;
  const Scale x{0, span / 60.0, left, right, false};
  const bool merge = bars.size() > 3000;
  std::string attributes = "data-groups=\"" + std::to_string(groups) + "\" data-segments=\"" +
                           std::to_string(bars.size()) + "\" data-merged=\"" + (merge ? "1" : "0") + "\"";
  SvgFigure svg(width, height, "timeline", attributes);
  svg.open_group("axes");
  for (double tick : ticks(0, span / 60.0, false)) {
    svg.line(x(tick), top, x(tick), top + lane * groups, "grid", "");
    svg.text(x(tick), top + lane * groups + 16, short_number(tick), "tick-label", "middle");
  }
  svg.text((left + right) / 2, height - 10, "minutes since the experiment's start (min)", "axis-label x-label", "middle");
  svg.text(left, 18, display_name(run) + ": which trial each group ran when (grey: idle)", "plot-title");
  svg.close_group();
  for (int g = 0; g < groups; ++g) {
    const double y = top + lane * g;
    svg.rect(left, y + 1, right - left, lane - 2, "idle", "fill:#e8e8e8");
    if (groups <= 32 || g % 4 == 0)
      svg.text(left - 8, y + lane * 0.5 + 4, "group " + std::to_string(g) + " (" + short_number(100 * busy[g] / span, 3) + "%)",
               "lane-label", "end");
  }
  int drawn = 0;
  for (auto& [g, list] : by_group) {
    const double y = top + lane * g;
    if (merge) {
      // Bars closer than a pixel merge: the lane still shows where the group idled.
      double s = -1, e = -1;
      auto flush = [&] {
        if (e > s) {
          svg.rect(x(s), y + 2, std::max(0.8, x(e) - x(s)), lane - 4, "bar merged", "fill:#0072B2");
          ++drawn;
        }
      };
      const double pixel = span / 60.0 / (right - left);
      for (const auto& b : list) {
        const double bs = (b.start - t0) / 60.0, be = (b.end - t0) / 60.0;
        if (s < 0 || bs > e + pixel) {
          flush();
          s = bs;
          e = be;
        } else {
          e = std::max(e, be);
        }
      }
      flush();
      continue;
    }
    for (const auto& b : list) {
      const double bs = (b.start - t0) / 60.0, be = (b.end - t0) / 60.0;
      const std::string colour = b.outcome == "failed" ? "#000000" : categorical_colour(static_cast<size_t>(b.trial) % 7);
      svg.rect(x(bs), y + 2, std::max(0.8, x(be) - x(bs)), lane - 4, "bar", "fill:" + colour + ";stroke:#ffffff;stroke-width:0.5",
               "trial " + std::to_string(b.trial) + " on group " + std::to_string(g) + ": " + short_number(bs, 4) + "-" +
                   short_number(be, 4) + " min (" + b.outcome + ")",
               "data-trial=\"" + std::to_string(b.trial) + "\"");
      ++drawn;
    }
  }
  Section s;
  s.name = name;
  s.title = title;
  s.html = "<p>Utilisation over " + short_number(span / 60.0, 4) + " min: " +
           short_number(100 * total_busy / (span * std::max(1, groups)), 3) + "% of " + std::to_string(groups) +
           " group" + (groups == 1 ? "" : "s") + " busy (per group in the labels).</p>\n";
  Figure f;
  f.name = "timeline";
  f.svg = svg.finish();
  f.caption = std::to_string(bars.size()) + (from_events ? " segments, from the groups' messages in /events" :
                                             " trials, from /trials (start to end on the group that ran them last; a "
                                             "paused trial's segments merge: the file has no /events)") +
              (merge ? "; bars closer than a pixel merged into " + std::to_string(drawn) + " busy spans" : "") +
              ". Colour: the trial (black: failed); grey: idle.";
  s.figures.push_back(f);
  return s;
}

}  // namespace html
}  // namespace mpitune
