// Branin-Hoo: two dimensions, three global minimisers; the classic smoke test for a searcher.
#include <cmath>

#include "mpitune/objective/synthetic.hpp"

namespace mpitune {

namespace {
constexpr double kPi = 3.14159265358979323846;  // M_PI is POSIX, not standard C++
}  // namespace

double branin(double x1, double x2) {
  const double a = 1.0;
  const double b = 5.1 / (4.0 * kPi * kPi);
  const double c = 5.0 / kPi;
  const double r = 6.0;
  const double s = 10.0;
  const double t = 1.0 / (8.0 * kPi);
  const double q = x2 - b * x1 * x1 + c * x1 - r;
  return a * q * q + s * (1.0 - t) * std::cos(x1) + s;
}

}  // namespace mpitune
