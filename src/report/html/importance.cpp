// Hyperparameter importance: first-order main effects, functional-ANOVA style, estimated from
// the trials directly (see sections.hpp).
//
// Method (stated on the page): take the trials evaluated at one budget, the largest step at
// which at least min(10, all) trials have a value (mixing budgets would credit a dimension for
// the scheduler's choice of whom to promote). For each hyperparameter, split those trials into
// quantile bins of its value (up to 10 bins with at least 3 trials each; categoricals: one bin
// per choice) and take the share of the metric's variance that the bin means explain, the
// correlation ratio eta^2 = sum_b n_b (mean_b - mean)^2 / sum_i (y_i - mean)^2. That is the
// first-order term of a functional ANOVA decomposition with the marginal estimated by bin
// averages; interactions are not counted, so the shares need not sum to one. With few trials
// eta^2 is biased upwards (about (bins - 1) / (n - 1) for a dimension that does nothing), and
// the page prints that baseline next to each figure.
#include <algorithm>
#include <cmath>
#include <map>

#include "sections.hpp"
#include "svg.hpp"

namespace mpitune {
namespace html {

Section importance_section(const ExperimentView& v) {
  const std::string name = "importance", title = "Hyperparameter importance";
  if (v.domains.empty()) return missing_section(name, title, "no importance: the experiment has no hyperparameters");
  // Trials per evaluated step.
  std::map<int64_t, std::vector<std::pair<size_t, double>>> by_step;
  for (size_t i = 0; i < v.trials.size(); ++i) {
    std::map<int64_t, double> last_at;  // one value per trial and step (the last reported)
    for (const auto& p : v.trials[i].series) last_at[p.step] = p.value;
    for (const auto& [step, value] : last_at) by_step[step].push_back({i, value});
  }
  size_t most = 0;
  for (const auto& [step, list] : by_step) most = std::max(most, list.size());
  const size_t need = std::min<size_t>(10, most);
  int64_t budget = -1;
  for (const auto& [step, list] : by_step)
    if (list.size() >= need && need > 0) budget = step;
  if (budget < 0 || by_step[budget].size() < 4)
    return missing_section(name, title, "no importance: fewer than 4 trials were evaluated at a common step");
  const auto& sample = by_step[budget];
  const double n = static_cast<double>(sample.size());
  double mean = 0;
  for (const auto& s : sample) mean += s.second;
  mean /= n;
  double total = 0;
  for (const auto& s : sample) total += (s.second - mean) * (s.second - mean);

  struct Effect {
    std::string name;
    double eta2 = kNaN;
    double baseline = kNaN;
    int bins = 0;
  };
  std::vector<Effect> effects;
  for (const Domain& d : v.domains) {
    std::vector<std::pair<double, double>> xy;  // (coordinate, metric)
    for (const auto& [i, y] : sample) {
      const double x = domain_coordinate(d, v.trials[i].record->hparams);
      if (std::isfinite(x)) xy.push_back({x, y});
    }
    Effect e;
    e.name = d.name;
    if (xy.size() < 4 || total <= 0) {
      effects.push_back(e);
      continue;
    }
    std::sort(xy.begin(), xy.end());
    std::vector<std::vector<double>> bins;
    if (d.is_categorical()) {
      std::map<double, std::vector<double>> per_choice;
      for (const auto& [x, y] : xy) per_choice[x].push_back(y);
      for (auto& [x, ys] : per_choice) bins.push_back(ys);
    } else {
      const size_t k = std::max<size_t>(2, std::min<size_t>(10, xy.size() / 3));
      bins.resize(k);
      for (size_t j = 0; j < xy.size(); ++j) bins[j * k / xy.size()].push_back(xy[j].second);
    }
    double between = 0, m = 0;
    for (const auto& [x, y] : xy) m += y;
    m /= xy.size();
    double within_total = 0;
    for (const auto& [x, y] : xy) within_total += (y - m) * (y - m);
    int used = 0;
    for (const auto& b : bins) {
      if (b.empty()) continue;
      double bm = 0;
      for (double y : b) bm += y;
      bm /= b.size();
      between += b.size() * (bm - m) * (bm - m);
      ++used;
    }
    e.bins = used;
    e.eta2 = within_total > 0 ? between / within_total : 0;
    e.baseline = used > 1 ? (used - 1.0) / (xy.size() - 1.0) : 0;
    effects.push_back(e);
  }
  std::stable_sort(effects.begin(), effects.end(), [](const Effect& a, const Effect& b) {
    return (std::isnan(a.eta2) ? -1 : a.eta2) > (std::isnan(b.eta2) ? -1 : b.eta2);
  });

  const double row = 24, left = 150, top = 34, width = 620, right = width - 120;
  const double height = top + row * effects.size() + 44;
  SvgFigure svg(width, height, "importance",
                "data-trials=\"" + std::to_string(sample.size()) + "\" data-budget=\"" + std::to_string(budget) + "\"");
  svg.text(10, 18, display_name(*v.run) + ": share of " + v.metric + " variance explained (first-order)", "plot-title");
  const Scale x{0, 1, left, right, false};
  for (double t : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    svg.line(x(t), top, x(t), top + row * effects.size(), "grid", "");
    svg.text(x(t), top + row * effects.size() + 16, short_number(t), "tick-label", "middle");
  }
  svg.text((left + right) / 2, height - 8, "eta\xc2\xb2: variance share of the bin means (0-1)", "axis-label x-label", "middle");
  std::vector<std::vector<std::string>> table;
  for (size_t i = 0; i < effects.size(); ++i) {
    const Effect& e = effects[i];
    const double y = top + row * i;
    svg.text(left - 8, y + row * 0.65, e.name.size() > 20 ? e.name.substr(0, 19) + "\xe2\x80\xa6" : e.name, "lane-label", "end");
    if (std::isfinite(e.eta2)) {
      svg.rect(x(0), y + 4, x(std::min(1.0, e.eta2)) - x(0), row - 8, "importance-bar", "fill:#009E73",
               e.name + ": " + short_number(e.eta2, 3));
      svg.line(x(e.baseline), y + 2, x(e.baseline), y + row - 2, "baseline", "stroke:#000000;stroke-dasharray:2 2");
      svg.text(x(std::min(1.0, e.eta2)) + 6, y + row * 0.65, short_number(e.eta2, 2), "count-label");
    }
    table.push_back({xml_escape(e.name), std::isfinite(e.eta2) ? short_number(e.eta2, 3) : "-",
                     std::isfinite(e.baseline) ? short_number(e.baseline, 2) : "-", std::to_string(e.bins)});
  }
  Section s;
  s.name = name;
  s.title = title;
  s.html = "<p class=\"method\">Method: first-order main effects in the manner of functional ANOVA, estimated without "
           "a surrogate model: for each hyperparameter the trials are split into quantile bins of its value (up to 10 "
           "bins of at least 3 trials; one bin per choice for categoricals) and the figure is eta\xc2\xb2, the share of "
           "the variance of " +
           xml_escape(v.metric) + " that the bins' means explain. Interactions are not counted. It rests on " +
           std::to_string(sample.size()) + " trials evaluated at step " + std::to_string(budget) +
           " (the largest step that at least " + std::to_string(need) +
           " trials reached). Dashed: the eta\xc2\xb2 a hyperparameter with no effect would show by chance, about "
           "(bins - 1) / (trials - 1).</p>\n" +
           html_table("importance", {"hyperparameter", "eta\xc2\xb2", "chance level", "bins"}, table,
                      {false, true, true, true});
  Figure f;
  f.name = "importance";
  f.svg = svg.finish();
  f.caption = "Hyperparameter importance from " + std::to_string(sample.size()) + " trials at step " +
              std::to_string(budget) + ".";
  s.figures.push_back(f);
  return s;
}

}  // namespace html
}  // namespace mpitune
