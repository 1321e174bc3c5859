// The scaling study's figures (docs/scaling/*.svg), drawn with mpitune's own SVG writer
// (src/report/html/svg.hpp): utilisation, overhead against the ideal time, and decisions per
// second of the simulator, each against the number of groups on a log axis, one line per
// scheduler.
#pragma once

#include <string>
#include <vector>

#include "scaling_sweep.hpp"

namespace mpitune {
namespace scaling {

struct PlotFile {
  std::string name;  // e.g. "utilisation.svg"
  std::string svg;   // a standalone file (XML declaration and its own style sheet)
};

// Points that failed (PointResult::error) are left out.
std::vector<PlotFile> sweep_plots(const std::vector<PointResult>& points);

}  // namespace scaling
}  // namespace mpitune
