// The SVG writer: escaping, ticks (linear and log), scales and colours.
#include <gtest/gtest.h>

#include <cmath>

#include "svg.hpp"

namespace mpitune::html {
namespace {

TEST(Svg, EscapesMarkupAndDropsControlCharacters) {
  EXPECT_EQ(xml_escape("a<b>&\"c'\x01"), "a&lt;b&gt;&amp;&quot;c&#39;");
  SvgFigure f(100, 50, "k<");
  f.text(1, 2, "</svg><script>", "c");
  const std::string s = f.finish();
  EXPECT_EQ(s.find("<script>"), std::string::npos);
  EXPECT_NE(s.find("&lt;/svg&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_NE(s.find("data-plot=\"k&lt;\""), std::string::npos);
}

TEST(Svg, LogTicksArePowersOfTen) {
  EXPECT_EQ(ticks(1, 1e5, true), (std::vector<double>{1, 10, 100, 1000, 1e4, 1e5}));
  // Up to three decades, 2 and 5 in between.
  EXPECT_EQ(ticks(1, 20, true), (std::vector<double>{1, 2, 5, 10, 20}));
}

TEST(Svg, LinearTicksAreNiceNumbersInsideTheRange) {
  const auto t = ticks(0.03, 0.97, false, 5);
  ASSERT_GE(t.size(), 4u);
  for (double v : t) {
    EXPECT_GE(v, 0.03);
    EXPECT_LE(v, 0.97);
  }
  EXPECT_NEAR(t[1] - t[0], 0.2, 1e-12);
}

TEST(Svg, ScalesMapEndsToPixels) {
  const Scale lin{0, 10, 100, 200, false};
  EXPECT_DOUBLE_EQ(lin(0), 100);
  EXPECT_DOUBLE_EQ(lin(5), 150);
  const Scale log{1, 100, 0, 200, true};
  EXPECT_DOUBLE_EQ(log(10), 100);
  const Scale flipped{0, 1, 300, 20, false};  // y axes grow upwards
  EXPECT_DOUBLE_EQ(flipped(1), 20);
}

TEST(Svg, RangesOfEmptyAndSingleValues) {
  EXPECT_EQ(data_range({}, false), std::make_pair(0.0, 1.0));
  const auto r = data_range({2.0}, false);
  EXPECT_LT(r.first, 2.0);
  EXPECT_GT(r.second, 2.0);
  const auto l = data_range({-1.0, 0.0, 10.0, 100.0}, true);  // non-positive values ignored on log
  EXPECT_GT(l.first, 0.0);
  EXPECT_LT(l.first, 10.0);
}

TEST(Svg, PaletteIsOkabeItoAndSequentialEndsAreViridis) {
  EXPECT_STREQ(categorical_colour(0), "#E69F00");
  EXPECT_STREQ(categorical_colour(7), "#E69F00");
  EXPECT_EQ(sequential_colour(0), "#440154");
  EXPECT_EQ(sequential_colour(1), "#fde725");
}

TEST(Svg, ShortNumbers) {
  EXPECT_EQ(short_number(0.001), "0.001");
  EXPECT_EQ(short_number(100000), "1e+05");
  EXPECT_EQ(short_number(2.5), "2.5");
  EXPECT_EQ(short_number(1e-15), "0");
}

}  // namespace
}  // namespace mpitune::html
