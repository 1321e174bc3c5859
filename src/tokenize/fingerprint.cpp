// FNV-1a 64 (see fingerprint.hpp).
#include "mpitune/tokenize/fingerprint.hpp"

#include <cstdio>

namespace mpitune {

void Fingerprint::mix(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h_ ^= p[i];
    h_ *= 0x100000001b3ULL;
  }
}

Fingerprint& Fingerprint::add(std::string_view bytes) {
  const uint64_t n = bytes.size();
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  mix(len, sizeof len);
  mix(bytes.data(), bytes.size());
  return *this;
}

std::string Fingerprint::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
  return buf;
}

}  // namespace mpitune
