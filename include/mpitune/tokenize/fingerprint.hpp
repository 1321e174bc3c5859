// FNV-1a (64-bit) over the bytes that decide a tokenizer's ids: a stable key for token caches.
// Not cryptographic; it only has to change when a tokenizer file or a resolved setting changes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mpitune {

class Fingerprint {
 public:
  // Adds the length, then the bytes, so ("ab", "c") and ("a", "bc") differ.
  Fingerprint& add(std::string_view bytes);
  std::string hex() const;  // 16 lowercase hex digits

 private:
  void mix(const void* data, size_t n);
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace mpitune
