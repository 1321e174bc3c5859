// The dtype table and the bf16/f16 <-> f32 conversions, against values worked out by hand and
// against references written here from the definitions of the formats: widening from the
// value formula (sign x mantissa x 2^exponent, evaluated with ldexp), narrowing by searching
// the sorted table of all finite 16-bit values for the nearest one (ties to the even pattern).
// Neither shares code or bit tricks with src/hf/safetensors_dtype.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "mpitune/core/error.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "safetensors_test_util.hpp"

namespace mpitune {
namespace {

using testing::bits_of;
using testing::float_of;

// The value of a 16-bit pattern with `mbits` mantissa bits and exponent bias `bias` (f16: 10,
// 15; bf16: 7, 127), from the IEEE definition.
double value_of(uint16_t h, int mbits, int ebits, int bias) {
  const int sign = h >> 15;
  const int e = (h >> mbits) & ((1 << ebits) - 1);
  const int m = h & ((1 << mbits) - 1);
  double v;
  if (e == (1 << ebits) - 1)
    v = m ? std::nan("") : INFINITY;
  else if (e == 0)
    v = std::ldexp(m, 1 - bias - mbits);
  else
    v = std::ldexp(m + (1 << mbits), e - bias - mbits);
  return sign ? -v : v;
}
double f16_value(uint16_t h) { return value_of(h, 10, 5, 15); }
double bf16_value(uint16_t h) { return value_of(h, 7, 8, 127); }

// Nearest 16-bit pattern to a float by search: `table` holds the values of the positive finite
// patterns 0 .. table.size() - 1 in increasing order; the pattern after the last is infinity,
// and as far as rounding goes it is the next value in line (`beyond`).
uint16_t nearest(float x, const std::vector<double>& table, double beyond, uint16_t inf_bits) {
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(static_cast<double>(x));
  if (std::isinf(a)) return sign | inf_bits;
  auto it = std::upper_bound(table.begin(), table.end(), a);  // first value > a
  const size_t lo = static_cast<size_t>(it - table.begin()) - 1;
  if (table[lo] == a) return sign | static_cast<uint16_t>(lo);
  const double hi_value = lo + 1 < table.size() ? table[lo + 1] : beyond;
  const double mid = (table[lo] + hi_value) / 2;  // exact: both have few mantissa bits
  size_t pick = a < mid ? lo : a > mid ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
  return sign | static_cast<uint16_t>(pick);  // pick == table.size() is the infinity pattern
}

struct Tables {
  std::vector<double> f16, bf16;
  Tables() {
    for (uint32_t h = 0; h < 0x7C00; ++h) f16.push_back(f16_value(static_cast<uint16_t>(h)));
    for (uint32_t h = 0; h < 0x7F80; ++h) bf16.push_back(bf16_value(static_cast<uint16_t>(h)));
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}
uint16_t ref_f16(float x) { return nearest(x, tables().f16, 65536.0, 0x7C00); }
uint16_t ref_bf16(float x) { return nearest(x, tables().bf16, std::ldexp(1.0, 128), 0x7F80); }

TEST(SafetensorsDType, NamesSizesAndParsing) {
  const std::vector<std::pair<TensorDType, size_t>> all = {
      {TensorDType::F32, 4}, {TensorDType::BF16, 2}, {TensorDType::F16, 2}, {TensorDType::F64, 8},
      {TensorDType::I64, 8}, {TensorDType::I32, 4},  {TensorDType::I16, 2}, {TensorDType::I8, 1},
      {TensorDType::U8, 1},  {TensorDType::BOOL, 1}};
  const std::vector<std::string> names = {"F32", "BF16", "F16", "F64", "I64",
                                          "I32", "I16",  "I8",  "U8",  "BOOL"};
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(dtype_bytes(all[i].first), all[i].second) << names[i];
    EXPECT_EQ(dtype_name(all[i].first), names[i]);
    EXPECT_EQ(parse_dtype(names[i], "x"), all[i].first);
  }
  try {
    parse_dtype("F8_E4M3", "model.safetensors: tensor 'w'");
    FAIL() << "F8_E4M3 parsed";
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find("model.safetensors: tensor 'w'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("F8_E4M3"), std::string::npos);
  }
  EXPECT_THROW(parse_dtype("f32", "x"), InfraError);  // names are case-sensitive
}

TEST(SafetensorsDType, NumelIsTheProductOfTheShape) {
  TensorEntry e;
  EXPECT_EQ(e.numel(), 1);  // a scalar
  e.shape = {3, 4, 5};
  EXPECT_EQ(e.numel(), 60);
  e.shape = {7, 0};
  EXPECT_EQ(e.numel(), 0);
}

TEST(SafetensorsDType, HandWorkedValues) {
  // bf16: the upper half of a float, rounded to nearest even on the lower half.
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);      // tie, 0x3F80 is even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // tie, up to even
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 0x3F81);
  EXPECT_EQ(f32_to_bf16(0.1f), 0x3DCD);   // 0x3DCCCCCD: the lower half 0xCCCD rounds up
  EXPECT_EQ(f32_to_bf16(3.14159274f), 0x4049);  // 0x40490FDB: 0x0FDB rounds down
  EXPECT_EQ(f32_to_bf16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_bf16(INFINITY), 0x7F80);
  EXPECT_EQ(f32_to_bf16(-INFINITY), 0xFF80);
  EXPECT_EQ(f32_to_bf16(float_of(0x7F7FFFFF)), 0x7F80);  // FLT_MAX rounds up to infinity
  EXPECT_EQ(f32_to_bf16(float_of(0x7F7F7FFF)), 0x7F7F);  // just under the half-way point
  EXPECT_EQ(f32_to_bf16(float_of(0x00000001)), 0x0000);  // smallest f32 subnormal
  EXPECT_EQ(f32_to_bf16(float_of(0x00018000)), 0x0002);  // subnormal tie, up to even
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(float_of(0x7F800001)))));  // NaN, not inf
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(float_of(0xFFFFFFFF)))));
  EXPECT_EQ(bits_of(bf16_to_f32(0x3F80)), 0x3F800000u);
  EXPECT_EQ(bits_of(bf16_to_f32(0x8001)), 0x80010000u);  // negative subnormal
  EXPECT_EQ(bf16_to_f32(0x7F7F), 3.38953139e38f);

  // f16: 10 mantissa bits, exponent bias 15, subnormals down to 2^-24, largest 65504.
  EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xC000);
  EXPECT_EQ(f32_to_f16(0.1f), 0x2E66);
  EXPECT_EQ(f32_to_f16(3.14159274f), 0x4248);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65519.996f), 0x7BFF);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7C00);  // half-way to 2^16 rounds to even: infinity
  EXPECT_EQ(f32_to_f16(1e6f), 0x7C00);
  EXPECT_EQ(f32_to_f16(-1e6f), 0xFC00);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie with 0: even
  EXPECT_EQ(f32_to_f16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(f32_to_f16(3 * std::ldexp(1.0f, -25)), 0x0002);  // tie between 1 and 2: even
  EXPECT_EQ(f32_to_f16(-std::ldexp(1.0f, -26)), 0x8000);
  EXPECT_EQ(f32_to_f16(std::ldexp(1023.5f, -24)), 0x0400);  // rounds up into the normals
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie, even
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie, up to even
  EXPECT_EQ(f32_to_f16(INFINITY), 0x7C00);
  const uint16_t nan16 = f32_to_f16(std::nanf(""));
  EXPECT_EQ(nan16 & 0x7C00, 0x7C00);
  EXPECT_NE(nan16 & 0x03FF, 0);
  EXPECT_NE(f32_to_f16(float_of(0x7F800001)) & 0x03FF, 0);  // a NaN whose payload is cut off
  EXPECT_EQ(f16_to_f32(0x3C00), 1.0f);
  EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_to_f32(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(bits_of(f16_to_f32(0x8000)), 0x80000000u);
  EXPECT_EQ(f16_to_f32(0xFC00), -INFINITY);
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7E00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7C01)));  // signalling NaN stays a NaN
}

TEST(SafetensorsDType, WideningAllPatternsMatchesTheValueFormula) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const double want16 = f16_value(h), wantb = bf16_value(h);
    const float got16 = f16_to_f32(h), gotb = bf16_to_f32(h);
    if (std::isnan(want16)) {
      ASSERT_TRUE(std::isnan(got16)) << std::hex << i;
    } else {
      ASSERT_EQ(bits_of(got16), bits_of(static_cast<float>(want16))) << std::hex << i;
      ASSERT_EQ(f32_to_f16(got16), h) << std::hex << i;  // and back, exactly
    }
    if (std::isnan(wantb)) {
      ASSERT_TRUE(std::isnan(gotb)) << std::hex << i;
    } else {
      ASSERT_EQ(bits_of(gotb), bits_of(static_cast<float>(wantb))) << std::hex << i;
      ASSERT_EQ(f32_to_bf16(gotb), h) << std::hex << i;
    }
  }
}

// Narrowing, checked on the floats where rounding decides: for every 16-bit value, the
// half-way points to its neighbours and the floats just either side of them; then random
// floats, both over all bit patterns and concentrated in f16's range.
TEST(SafetensorsDType, NarrowingMatchesNearestValueSearch) {
  std::vector<float> xs;
  for (const auto* t : {&tables().f16, &tables().bf16}) {
    for (size_t i = 0; i + 1 < t->size(); ++i) {
      const auto mid = static_cast<float>(((*t)[i] + (*t)[i + 1]) / 2);  // exact in a float
      for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY),
                      static_cast<float>((*t)[i])}) {
        xs.push_back(x);
        xs.push_back(-x);
      }
    }
  }
  std::mt19937 rng(20240607);
  for (int i = 0; i < 400000; ++i) xs.push_back(float_of(rng()));
  std::uniform_int_distribution<uint32_t> exponent(95, 145), mantissa(0, 0x7FFFFF);
  for (int i = 0; i < 400000; ++i)
    xs.push_back(float_of(((rng() & 1u) << 31) | (exponent(rng) << 23) | mantissa(rng)));

  size_t checked = 0;
  for (const float x : xs) {
    if (std::isnan(x)) {
      ASSERT_TRUE(std::isnan(f16_to_f32(f32_to_f16(x))));
      ASSERT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(x))));
      continue;
    }
    ASSERT_EQ(f32_to_f16(x), ref_f16(x)) << std::hexfloat << x;
    ASSERT_EQ(f32_to_bf16(x), ref_bf16(x)) << std::hexfloat << x;
    ++checked;
  }
  EXPECT_GT(checked, 1000000u);
}

}  // namespace
}  // namespace mpitune
