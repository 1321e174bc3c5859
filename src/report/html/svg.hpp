// A small SVG writer for the HTML report: scales (linear and log), tick placement, axes with
// labels and units, and the few shapes the report draws (polylines, points, rects, text).
//
// Written for this report rather than taken from a plotting library: the page must be one
// self-contained file with no JavaScript, and what it draws is a handful of chart kinds, so a
// few hundred lines that we control (sizes, escaping, thinning) beat a dependency. Coordinates
// are written with one decimal (a tenth of a pixel is invisible and keeps 100,000-trial pages
// small). Every text goes through xml_escape, so trial names and hyperparameter values with
// '<', '&' or quotes cannot break the page.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mpitune {
namespace html {

// '&', '<', '>', '"' and '\'' as entities; control characters other than tab/newline dropped.
std::string xml_escape(const std::string& s);

// A number for labels: up to `digits` significant digits, no trailing zeros ("0.001", "1e+05").
std::string short_number(double x, int digits = 3);

// Maps data values onto pixels; a log scale maps log10 of the value (values <= 0 are clamped
// to the low end).
struct Scale {
  double lo = 0, hi = 1;        // data range
  double px_lo = 0, px_hi = 1;  // pixel range (px_lo maps lo)
  bool log = false;
  double operator()(double v) const;
};

// Data range of `values` (finite ones; positive ones on a log scale), padded a little so points
// do not sit on the frame; {0, 1} when there are none, a unit-wide range around a lone value.
std::pair<double, double> data_range(const std::vector<double>& values, bool log);

// About `target` "nice" ticks (1, 2, 5 x 10^k) inside [lo, hi]; on a log scale the powers of
// ten (with 2 and 5 between them when the range spans fewer than three decades).
std::vector<double> ticks(double lo, double hi, bool log, int target = 6);

// Which of the ticks `values`, drawn at `positions` (pixels along the axis), get a label that
// takes `extent(i)` pixels along the axis, so that no two labels overlap: on a log axis the powers
// of ten first, then the 2s and 5s where room is left; on a linear axis from the first on.
std::vector<bool> labelled_ticks(const std::vector<double>& values, const std::vector<double>& positions,
                                 const std::vector<double>& extents, bool log);
// The width in pixels of `text` in the 11px tick-label font (an estimate: 6.2 px a character).
double tick_label_width(const std::string& text);

// Okabe & Ito's colour-blind-safe palette (black first left out): orange, sky blue, bluish
// green, yellow, blue, vermillion, reddish purple; index wraps around.
const char* categorical_colour(size_t i);
// A viridis-like sequential map (perceptually ordered, readable in grey and by colour-blind
// readers), t in [0, 1].
std::string sequential_colour(double t);

// One SVG figure under construction. Elements are appended as text; finish() closes it.
class SvgFigure {
 public:
  // `kind` becomes data-plot (what the tests and the --plots file names use); `attributes`
  // are extra attributes of the <svg> element (already escaped: data-trials="12" ...).
  SvgFigure(double width, double height, const std::string& kind, const std::string& attributes = "");

  double width() const { return width_; }
  double height() const { return height_; }

  // `attributes`: extra attributes, already escaped (data-trial="12").
  void polyline(const std::vector<std::pair<double, double>>& points, const std::string& cls,
                const std::string& style, const std::string& tooltip = "", const std::string& attributes = "");
  void polygon(const std::vector<std::pair<double, double>>& points, const std::string& cls,
               const std::string& style);
  void circle(double x, double y, double r, const std::string& cls, const std::string& style,
              const std::string& tooltip = "");
  void rect(double x, double y, double w, double h, const std::string& cls, const std::string& style,
            const std::string& tooltip = "", const std::string& attributes = "");
  void line(double x1, double y1, double x2, double y2, const std::string& cls, const std::string& style,
            const std::string& tooltip = "");
  // anchor: "start" | "middle" | "end"; rotate: degrees around (x, y).
  void text(double x, double y, const std::string& s, const std::string& cls, const std::string& anchor = "start",
            double rotate = 0);
  // Opens/closes a group (<g class=...>), e.g. one per trial.
  void open_group(const std::string& cls, const std::string& attributes = "");
  void close_group();
  std::string finish() const;

 private:
  double width_, height_;
  std::string head_;
  std::string body_;
};

// The frame of an x-y chart: plot area inside margins, scales, and axes with ticks and labels.
struct Chart {
  Chart(const std::string& kind, const std::string& title, const std::string& x_label, const std::string& y_label,
        std::pair<double, double> x_range, std::pair<double, double> y_range, bool x_log, bool y_log,
        const std::string& attributes = "", double width = 760, double height = 380, double right_margin = 150);
  SvgFigure svg;
  Scale x, y;
  double left, top, right, bottom;  // the plot area in pixels
  // A legend entry in the right margin (entries stack downwards).
  void legend(const std::string& label, const std::string& colour, bool dashed = false, double stroke = 2);
  // Writes the frame, ticks, grid and labels: call before drawing data so data lies on top.
  void axes();

 private:
  std::string title_, x_label_, y_label_;
  int legend_entries_ = 0;
};

// "x1,y1 x2,y2 ..." with one decimal.
std::string points_attribute(const std::vector<std::pair<double, double>>& points);

}  // namespace html
}  // namespace mpitune
