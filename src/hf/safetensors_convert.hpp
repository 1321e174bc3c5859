// The 16-bit float conversions as inline functions, so that the reader's per-element loops
// (safetensors_file.cpp) inline and vectorise them; the public bf16_to_f32 ... f32_to_f16 of
// safetensors.hpp are these. Bit-exact with torch; see safetensors_dtype.cpp for the rules.
#pragma once

#include <cstdint>
#include <cstring>

namespace mpitune::hf_detail {

inline uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

inline float float_of(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

inline float bf16_to_f32(uint16_t v) { return float_of(static_cast<uint32_t>(v) << 16); }

inline uint16_t f32_to_bf16(float v) {
  const uint32_t b = bits_of(v);
  if ((b & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;  // NaN (as torch's c10::BFloat16)
  // Adding 0x7FFF plus the lowest kept bit rounds to nearest, ties to even; a carry out of the
  // mantissa bumps the exponent, which turns the largest finite values into infinity.
  const uint32_t lowest_kept = (b >> 16) & 1u;
  return static_cast<uint16_t>((b + 0x7FFFu + lowest_kept) >> 16);
}

inline float f16_to_f32(uint16_t v) {
  const uint32_t sign = static_cast<uint32_t>(v & 0x8000u) << 16;
  const uint32_t exponent = (v >> 10) & 0x1Fu;
  const uint32_t mantissa = v & 0x3FFu;
  if (exponent == 0x1F)  // infinity, or NaN (kept a NaN, made quiet, payload kept)
    return float_of(sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x00400000u : 0u));
  if (exponent != 0) return float_of(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa x 2^-24, which a float holds exactly (and the conversion of an
  // integer below 2^10 to float is exact too).
  const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-08f;  // 2^-24
  return float_of(sign | bits_of(magnitude));
}

inline uint16_t f32_to_f16(float v) {
  const uint32_t b = bits_of(v);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  const uint32_t magnitude = b & 0x7FFFFFFFu;
  if (magnitude > 0x7F800000u) return sign | 0x7E00u;  // NaN
  // 65520 = 0x477FF000 is half-way between 65504 (the largest f16) and 2^16: it and everything
  // above rounds to infinity.
  if (magnitude >= 0x477FF000u) return sign | 0x7C00u;
  const uint32_t exponent = magnitude >> 23;
  if (exponent >= 113) {  // a normal f16: keep 10 of the 23 mantissa bits, round the other 13
    uint32_t h = ((exponent - 112) << 10) | ((magnitude >> 13) & 0x3FFu);
    const uint32_t rest = magnitude & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry may make it 0x400 higher
    return static_cast<uint16_t>(sign | h);
  }
  // Below 2^-14: an f16 subnormal, in units of 2^-24 (rounding may give the smallest normal).
  // Below 2^-25 (exponent < 102) everything rounds to zero.
  if (exponent < 102) return sign;
  const uint32_t significand = (magnitude & 0x7FFFFFu) | 0x800000u;  // value = s x 2^(e - 150)
  const uint32_t shift = 126 - exponent;                             // 14 .. 24
  uint32_t h = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (h & 1u))) ++h;
  return static_cast<uint16_t>(sign | h);
}

}  // namespace mpitune::hf_detail
