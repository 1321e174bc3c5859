// Writes a token file (layout in token_file.hpp), atomically (core/file_io.hpp's AtomicFile:
// temp file of its own, fsync, rename), so concurrent writers of the same key work side by side
// and a reader never sees half a file.
#include <algorithm>
#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/data/token_file.hpp"

namespace mpitune {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the token file is little-endian and its arrays are written from memory as they are");

// Buffered sequential writes to one file, with the 8-byte padding of the layout.
class SectionWriter {
 public:
  explicit SectionWriter(AtomicFile& file) : file_(file) { buffer_.reserve(kBuffer); }

  void bytes(const void* data, size_t n) {
    const auto* p = static_cast<const char*>(data);
    if (buffer_.size() + n > kBuffer) flush();
    if (n >= kBuffer) {
      file_.write(p, n);
    } else {
      buffer_.insert(buffer_.end(), p, p + n);
    }
    offset_ += n;
  }
  void u32(uint32_t v) { bytes(&v, sizeof v); }
  void i64(int64_t v) { bytes(&v, sizeof v); }
  void pad() {
    static const char zeros[8] = {};
    if (offset_ % 8) bytes(zeros, 8 - offset_ % 8);
  }
  void flush() {
    if (!buffer_.empty()) file_.write(buffer_.data(), buffer_.size());
    buffer_.clear();
  }

 private:
  static constexpr size_t kBuffer = 1 << 20;
  AtomicFile& file_;
  std::vector<char> buffer_;
  uint64_t offset_ = 0;
};

void write_split(SectionWriter& w, const std::vector<const TokenizedDocument*>& docs) {
  int64_t size = 0;
  bool masked = false;
  for (const auto* d : docs) {
    size += static_cast<int64_t>(d->ids.size());
    masked = masked || d->unscored > 0;
  }
  w.i64(size);
  w.i64(static_cast<int64_t>(docs.size()));
  w.i64(masked ? 1 : 0);
  for (const auto* d : docs) w.bytes(d->ids.data(), d->ids.size() * sizeof(int32_t));
  w.pad();
  if (masked) {
    std::vector<uint8_t> mask;
    for (const auto* d : docs) {
      mask.assign(d->ids.size(), 1);
      std::fill(mask.begin(), mask.begin() + std::min<int64_t>(d->unscored, static_cast<int64_t>(mask.size())), 0);
      w.bytes(mask.data(), mask.size());
    }
    w.pad();
  }
  int64_t begin = 0;
  w.i64(begin);
  for (const auto* d : docs) {
    begin += static_cast<int64_t>(d->ids.size());
    w.i64(begin);
  }
}

}  // namespace

void write_token_file(const std::string& path, const TokenFileContents& contents) {
  MPITUNE_CHECK(contents.vocab_size > 0, "token file without a vocabulary size");
  AtomicFile file(path);
  SectionWriter w(file);
  w.bytes(kTokenFileMagic, sizeof kTokenFileMagic);
  w.u32(kTokenFileVersion);
  w.u32(0);
  w.i64(contents.vocab_size);
  w.i64(static_cast<int64_t>(contents.fingerprint.size()));
  w.bytes(contents.fingerprint.data(), contents.fingerprint.size());
  w.pad();
  for (const auto& split : contents.splits) write_split(w, split);
  w.flush();
  file.commit();
}

}  // namespace mpitune
