// Bytes of a training state: a little-endian writer and a bounds-checked reader, and a
// checksum. Pure: no torch, no MPI. The files they go to are written and read through
// core/file_io.hpp (write_file_atomic, read_file_bytes, make_dirs, file_exists, remove_file),
// included here for the callers that have always found those functions through this header.
//
// A rank's state is built as bytes first, so the same bytes can go to a checkpoint file or move
// to another group through Collectives (send_bytes/recv_bytes) without a file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/file_io.hpp"

namespace mpitune {

class ByteWriter {
 public:
  void u64(uint64_t v);
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f64(double v);
  void str(const std::string& s);
  void raw(const void* data, size_t bytes);
  // A named section marker: readers check it, so a layout mismatch is caught where it happens.
  void tag(const char* name) { str(name); }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  // `what` names the source in errors ("checkpoint /x/rank-1.bin").
  ByteReader(const std::vector<uint8_t>& bytes, std::string what);
  uint64_t u64();
  int64_t i64() { return static_cast<int64_t>(u64()); }
  double f64();
  std::string str();
  void raw(void* data, size_t bytes);
  // Throws InfraError unless the next item is the tag `name`.
  void expect_tag(const char* name);
  bool at_end() const { return pos_ == bytes_.size(); }
  [[noreturn]] void fail(const std::string& problem) const;

 private:
  void need(size_t n) const;
  const std::vector<uint8_t>& bytes_;
  std::string what_;
  size_t pos_ = 0;
};

// FNV-1a over the bytes taken as little-endian 64-bit words (a trailing partial word padded with
// zeros), then mixed with the length: a fast corruption check, not a cryptographic hash.
uint64_t checksum64(const uint8_t* data, size_t bytes);
std::string hex64(uint64_t v);

}  // namespace mpitune
