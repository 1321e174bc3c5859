// Small helpers shared by the coordinator core's source files (src/coord/coordinator_*.cpp);
// private to them.
#pragma once

#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "mpitune/coord/coordinator_core.hpp"

namespace mpitune {
namespace coord_detail {

// std::visit over a message with one lambda per alternative.
template <class... Ts>
struct Overload : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overload(Ts...) -> Overload<Ts...>;

// a is better than b in `mode` (NaN never is; anything is better than NaN).
inline bool is_better(Mode mode, double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return mode == Mode::Min ? a < b : a > b;
}

// The trial has ended: it will never run again.
inline bool is_terminal(TrialStatus s) {
  return s == TrialStatus::Completed || s == TrialStatus::Stopped || s == TrialStatus::Failed ||
         s == TrialStatus::EarlyStopped;
}

inline std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Moves `more` to the end of `out`.
inline void append(std::vector<Outgoing>& out, std::vector<Outgoing> more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

}  // namespace coord_detail
}  // namespace mpitune
