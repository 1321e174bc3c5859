// Byte writer/reader and checksum (see state_io.hpp).
#include "mpitune/train/state_io.hpp"

#include <cstdio>
#include <cstring>

#include "mpitune/core/error.hpp"

namespace mpitune {

void ByteWriter::u64(uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void ByteWriter::f64(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  u64(bits);
}

void ByteWriter::str(const std::string& s) {
  u64(s.size());
  raw(s.data(), s.size());
}

void ByteWriter::raw(const void* data, size_t bytes) {
  const auto* p = static_cast<const uint8_t*>(data);
  bytes_.insert(bytes_.end(), p, p + bytes);
}

ByteReader::ByteReader(const std::vector<uint8_t>& bytes, std::string what)
    : bytes_(bytes), what_(std::move(what)) {}

void ByteReader::fail(const std::string& problem) const {
  throw InfraError(what_ + ": " + problem + " (at byte " + std::to_string(pos_) + ")");
}

void ByteReader::need(size_t n) const {
  if (bytes_.size() - pos_ < n) fail("truncated: " + std::to_string(n) + " more bytes expected");
}

uint64_t ByteReader::u64() {
  need(8);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(bytes_[pos_ + i]) << (8 * i);
  pos_ += 8;
  return v;
}

double ByteReader::f64() {
  const uint64_t bits = u64();
  double v = 0;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::string ByteReader::str() {
  const uint64_t n = u64();
  need(n);
  std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
  pos_ += n;
  return s;
}

void ByteReader::raw(void* data, size_t bytes) {
  need(bytes);
  if (bytes) std::memcpy(data, bytes_.data() + pos_, bytes);
  pos_ += bytes;
}

void ByteReader::expect_tag(const char* name) {
  const size_t at = pos_;
  const std::string got = str();
  if (got != name) {
    pos_ = at;
    fail(std::string("expected section '") + name + "', found '" + got.substr(0, 40) + "'");
  }
}

uint64_t checksum64(const uint8_t* data, size_t bytes) {
  constexpr uint64_t kPrime = 1099511628211ULL;
  uint64_t h = 14695981039346656037ULL;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w = 0;
    for (int k = 0; k < 8; ++k) w |= static_cast<uint64_t>(data[i + k]) << (8 * k);
    h = (h ^ w) * kPrime;
  }
  if (i < bytes) {
    uint64_t w = 0;
    for (int k = 0; i + k < bytes; ++k) w |= static_cast<uint64_t>(data[i + k]) << (8 * k);
    h = (h ^ w) * kPrime;
  }
  return (h ^ bytes) * kPrime;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace mpitune
