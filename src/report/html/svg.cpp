// The SVG writer of the HTML report (see svg.hpp).
#include "svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mpitune {
namespace html {
namespace {

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::isfinite(v) ? v : 0.0);
  return buf;
}

std::string optional_attr(const std::string& name, const std::string& value) {
  return value.empty() ? "" : " " + name + "=\"" + xml_escape(value) + "\"";
}

std::string tooltip_element(const std::string& tooltip) {
  return tooltip.empty() ? "" : "<title>" + xml_escape(tooltip) + "</title>";
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // XML 1.0 forbids most control characters; a name with one must still give a valid page.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') break;
        out += c;
    }
  }
  return out;
}

std::string short_number(double x, int digits) {
  if (!std::isfinite(x)) return std::isnan(x) ? "-" : (x > 0 ? "inf" : "-inf");
  if (std::fabs(x) < 1e-12) return "0";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, x);
  return buf;
}

double Scale::operator()(double v) const {
  double a = lo, b = hi;
  if (log) {
    a = std::log10(std::max(lo, 1e-300));
    b = std::log10(std::max(hi, 1e-300));
    v = v > 0 ? std::log10(v) : a;
  }
  const double t = b == a ? 0.5 : (v - a) / (b - a);
  return px_lo + t * (px_hi - px_lo);
}

std::pair<double, double> data_range(const std::vector<double>& values, bool log) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (!std::isfinite(v) || (log && v <= 0)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(lo <= hi)) return log ? std::make_pair(1.0, 10.0) : std::make_pair(0.0, 1.0);
  if (log) {
    if (lo == hi) return {lo / 2, hi * 2};
    const double pad = std::pow(hi / lo, 0.03);
    return {lo / pad, hi * pad};
  }
  if (lo == hi) return {lo - 0.5, hi + 0.5};
  const double pad = (hi - lo) * 0.04;
  return {lo - pad, hi + pad};
}

std::vector<double> ticks(double lo, double hi, bool log, int target) {
  std::vector<double> out;
  if (!(lo < hi)) return {lo};
  if (log && lo > 0) {
    const int e0 = static_cast<int>(std::floor(std::log10(lo))), e1 = static_cast<int>(std::ceil(std::log10(hi)));
    const int step = std::max(1, (e1 - e0 + target - 1) / target);
    const bool minor = e1 - e0 <= 3;  // up to three decades: 2 and 5 between the powers
    for (int e = e0; e <= e1; e += step)
      for (double m : minor ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
      }
    if (out.size() >= 2) return out;
    out.clear();  // less than a decade: linear ticks read better
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::vector<bool> labelled_ticks(const std::vector<double>& values, const std::vector<double>& positions,
                                 const std::vector<double>& extents, bool log) {
  const size_t n = values.size();
  std::vector<bool> shown(n, false);
  auto fits = [&](size_t i) {
    for (size_t j = 0; j < n; ++j)
      if (shown[j] && std::fabs(positions[i] - positions[j]) < (extents[i] + extents[j]) / 2 + 4) return false;
    return true;
  };
  auto is_decade = [&](size_t i) {
    const double e = std::log10(values[i]);
    return values[i] > 0 && std::fabs(e - std::round(e)) < 1e-9;
  };
  for (int pass = 0; pass < 2; ++pass)
    for (size_t i = 0; i < n; ++i) {
      if (shown[i]) continue;
      if (log && pass == 0 && !is_decade(i)) continue;
      if (!log && pass == 1) break;
      shown[i] = fits(i);
    }
  return shown;
}

double tick_label_width(const std::string& text) { return 6.2 * static_cast<double>(text.size()); }

const char* categorical_colour(size_t i) {
  static const char* colours[] = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"};
  return colours[i % 7];
}

std::string sequential_colour(double t) {
  // Nine stops of matplotlib's viridis, linearly interpolated.
  static const double stops[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},   {44, 113, 142}, {33, 144, 141},
                                     {39, 173, 129}, {92, 200, 99},  {170, 220, 50},  {253, 231, 37}};
  if (!std::isfinite(t)) t = 0;
  t = std::min(1.0, std::max(0.0, t)) * 8;
  const int i = std::min(7, static_cast<int>(t));
  const double f = t - i;
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
                static_cast<int>(stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
                static_cast<int>(stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
  return buf;
}

std::string points_attribute(const std::vector<std::pair<double, double>>& points) {
  std::string s;
  s.reserve(points.size() * 12);
  for (const auto& [x, y] : points) {
    if (!s.empty()) s += ' ';
    s += px(x) + "," + px(y);
  }
  return s;
}

SvgFigure::SvgFigure(double width, double height, const std::string& kind, const std::string& attributes)
    : width_(width), height_(height) {
  head_ = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" data-plot=\"" + xml_escape(kind) + "\" width=\"" +
          px(width) + "\" height=\"" + px(height) + "\" viewBox=\"0 0 " + px(width) + " " + px(height) + "\"" +
          (attributes.empty() ? "" : " " + attributes) + ">";
}

void SvgFigure::polyline(const std::vector<std::pair<double, double>>& points, const std::string& cls,
                         const std::string& style, const std::string& tooltip, const std::string& attributes) {
  body_ += "<polyline" + optional_attr("class", cls) + (attributes.empty() ? "" : " " + attributes) + " points=\"" +
           points_attribute(points) + "\"" + optional_attr("style", style) + (tooltip.empty() ? "/>" : ">" + tooltip_element(tooltip) + "</polyline>");
}

void SvgFigure::polygon(const std::vector<std::pair<double, double>>& points, const std::string& cls,
                        const std::string& style) {
  body_ += "<polygon" + optional_attr("class", cls) + " points=\"" + points_attribute(points) + "\"" +
           optional_attr("style", style) + "/>";
}

void SvgFigure::circle(double x, double y, double r, const std::string& cls, const std::string& style,
                       const std::string& tooltip) {
  body_ += "<circle" + optional_attr("class", cls) + " cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"" + px(r) + "\"" +
           optional_attr("style", style) + (tooltip.empty() ? "/>" : ">" + tooltip_element(tooltip) + "</circle>");
}

void SvgFigure::rect(double x, double y, double w, double h, const std::string& cls, const std::string& style,
                     const std::string& tooltip, const std::string& attributes) {
  body_ += "<rect" + optional_attr("class", cls) + (attributes.empty() ? "" : " " + attributes) + " x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" +
           px(std::max(0.0, w)) + "\" height=\"" + px(std::max(0.0, h)) + "\"" + optional_attr("style", style) +
           (tooltip.empty() ? "/>" : ">" + tooltip_element(tooltip) + "</rect>");
}

void SvgFigure::line(double x1, double y1, double x2, double y2, const std::string& cls, const std::string& style,
                     const std::string& tooltip) {
  body_ += "<line" + optional_attr("class", cls) + " x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) +
           "\" y2=\"" + px(y2) + "\"" + optional_attr("style", style) +
           (tooltip.empty() ? "/>" : ">" + tooltip_element(tooltip) + "</line>");
}

void SvgFigure::text(double x, double y, const std::string& s, const std::string& cls, const std::string& anchor,
                     double rotate) {
  body_ += "<text" + optional_attr("class", cls) + " x=\"" + px(x) + "\" y=\"" + px(y) + "\"" +
           (anchor == "start" ? "" : " text-anchor=\"" + anchor + "\"") +
           (rotate == 0 ? "" : " transform=\"rotate(" + px(rotate) + " " + px(x) + " " + px(y) + ")\"") + ">" +
           xml_escape(s) + "</text>";
}

void SvgFigure::open_group(const std::string& cls, const std::string& attributes) {
  body_ += "<g" + optional_attr("class", cls) + (attributes.empty() ? "" : " " + attributes) + ">";
}

void SvgFigure::close_group() { body_ += "</g>"; }

std::string SvgFigure::finish() const { return head_ + body_ + "</svg>"; }

Chart::Chart(const std::string& kind, const std::string& title, const std::string& x_label,
             const std::string& y_label, std::pair<double, double> x_range, std::pair<double, double> y_range,
             bool x_log, bool y_log, const std::string& attributes, double width, double height, double right_margin)
    : svg(width, height, kind, attributes), title_(title), x_label_(x_label), y_label_(y_label) {
  left = 72;
  top = 30;
  right = width - right_margin;
  bottom = height - 48;
  x = Scale{x_range.first, x_range.second, left, right, x_log};
  y = Scale{y_range.first, y_range.second, bottom, top, y_log};
}

void Chart::legend(const std::string& label, const std::string& colour, bool dashed, double stroke) {
  const double lx = right + 14, ly = top + 8 + 18 * legend_entries_++;
  svg.line(lx, ly, lx + 22, ly, "legend-swatch",
           "stroke:" + colour + ";stroke-width:" + px(stroke) + (dashed ? ";stroke-dasharray:5 3" : ""));
  // The margin holds about 16 characters of 11px text: longer labels are cut (the full text is
  // in the caption and the tables).
  std::string shown = label.size() > 18 ? label.substr(0, 17) + "\xe2\x80\xa6" : label;
  svg.text(lx + 28, ly + 4, shown, "legend-label");
}

void Chart::axes() {
  svg.open_group("axes");
  svg.rect(left, top, right - left, bottom - top, "frame", "");
  // Every tick gets its grid line; labels only where they do not run into each other.
  const std::vector<double> xs = ticks(x.lo, x.hi, x.log);
  std::vector<double> x_at, x_width;
  for (double v : xs) {
    x_at.push_back(x(v));
    x_width.push_back(tick_label_width(short_number(v)));
  }
  const std::vector<bool> x_shown = labelled_ticks(xs, x_at, x_width, x.log);
  for (size_t i = 0; i < xs.size(); ++i) {
    svg.line(x_at[i], top, x_at[i], bottom, "grid", "");
    svg.line(x_at[i], bottom, x_at[i], bottom + 5, "tick", "");
    if (x_shown[i]) svg.text(x_at[i], bottom + 18, short_number(xs[i]), "tick-label", "middle");
  }
  const std::vector<double> ys = ticks(y.lo, y.hi, y.log, 5);
  std::vector<double> y_at;
  for (double v : ys) y_at.push_back(y(v));
  const std::vector<bool> y_shown = labelled_ticks(ys, y_at, std::vector<double>(ys.size(), 12.0), y.log);
  for (size_t i = 0; i < ys.size(); ++i) {
    svg.line(left, y_at[i], right, y_at[i], "grid", "");
    svg.line(left - 5, y_at[i], left, y_at[i], "tick", "");
    if (y_shown[i]) svg.text(left - 8, y_at[i] + 4, short_number(ys[i]), "tick-label", "end");
  }
  svg.text((left + right) / 2, svg.height() - 10, x_label_, "axis-label x-label", "middle");
  svg.text(16, (top + bottom) / 2, y_label_, "axis-label y-label", "middle", -90);
  svg.text(left, 18, title_, "plot-title");
  svg.close_group();
}

}  // namespace html
}  // namespace mpitune
