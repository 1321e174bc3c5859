// One safetensors file, memory-mapped read-only and read by element range (see safetensors.hpp).
//
// The file is mapped whole (core/file_io.hpp's MappedFile) but only the pages of the header and
// of a requested range are ever touched. A range is copied in chunks
// of a few MB: each chunk's pages are prefaulted together (MADV_POPULATE_READ: one call instead
// of a page fault per 64 KB), copied or converted into the caller's buffer, and the pages fully
// inside what has been copied are dropped from this process (MADV_DONTNEED; the kernel's page
// cache keeps them for the next reader). So reading a rank's slice of a 10 GB checkpoint adds
// at most a chunk to the resident set, however large the slice or the file.
//
// Reads share no mutable state: the mapping is read-only and never written, and a page dropped
// by one thread while another copies from it is simply faulted in again from the page cache.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "safetensors_convert.hpp"
#include "safetensors_header.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian and is read as is");

namespace mpitune {
namespace {

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels answer EINVAL and pages fault in
#endif

constexpr uint64_t kChunkBytes = uint64_t{4} << 20;

uint64_t page_size() {
  static const uint64_t size = [] {
    const long s = ::sysconf(_SC_PAGESIZE);
    return s > 0 ? static_cast<uint64_t>(s) : uint64_t{4096};
  }();
  return size;
}

// Converts `n` elements of a float dtype at `src` (any alignment) to fp32.
void convert_to_f32(TensorDType dtype, const unsigned char* src, int64_t n, float* out) {
  switch (dtype) {
    case TensorDType::F32:
      std::memcpy(out, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case TensorDType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, src + 2 * i, 2);
        out[i] = hf_detail::bf16_to_f32(v);
      }
      return;
    case TensorDType::F16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, src + 2 * i, 2);
        out[i] = hf_detail::f16_to_f32(v);
      }
      return;
    case TensorDType::F64:
      for (int64_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, src + 8 * i, 8);
        out[i] = static_cast<float>(v);  // round to nearest even, overflow to inf, as torch
      }
      return;
    default:
      break;
  }
  throw InfraError(std::string("convert_to_f32: ") + dtype_name(dtype) + " is not a float type");
}

class MappedSafetensorsFile final : public SafetensorsFile {
 public:
  explicit MappedSafetensorsFile(const std::string& path) : map_(path) { parse(); }

  const std::string& path() const override { return map_.path(); }
  const std::vector<TensorEntry>& tensors() const override { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const override { return header_.metadata; }
  const TensorEntry* find(const std::string& name) const override {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &header_.tensors[it->second];
  }

  void read_f32(const TensorEntry& t, int64_t first, int64_t count, float* out) const override {
    if (t.dtype != TensorDType::F32 && t.dtype != TensorDType::BF16 &&
        t.dtype != TensorDType::F16 && t.dtype != TensorDType::F64)
      throw InfraError(path() + ": tensor '" + t.name + "' is " + dtype_name(t.dtype) +
                       ", not a float type: read it with read_raw");
    copy_range(t, first, count, [&](const unsigned char* src, int64_t done, int64_t n) {
      convert_to_f32(t.dtype, src, n, out + done);
    });
  }

  void read_raw(const TensorEntry& t, int64_t first, int64_t count, void* out) const override {
    const size_t es = dtype_bytes(t.dtype);
    auto* dst = static_cast<unsigned char*>(out);
    copy_range(t, first, count, [&](const unsigned char* src, int64_t done, int64_t n) {
      std::memcpy(dst + static_cast<size_t>(done) * es, src, static_cast<size_t>(n) * es);
    });
  }

 private:
  void parse() {
    const uint64_t file_bytes = map_.size();
    if (file_bytes < 8)
      throw InfraError(path() + ": not a safetensors file: " + std::to_string(file_bytes) +
                       " bytes, shorter than the 8-byte header length");
    uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | map_.data()[i];
    if (header_bytes > hf_detail::kMaxHeaderBytes)
      throw InfraError(path() + ": not a safetensors file: header length " +
                       std::to_string(header_bytes) + " is absurdly large (over " +
                       std::to_string(hf_detail::kMaxHeaderBytes) + " bytes)");
    if (header_bytes > file_bytes - 8)
      throw InfraError(path() + ": not a safetensors file (or truncated): header length " +
                       std::to_string(header_bytes) + " runs past the end of the " +
                       std::to_string(file_bytes) + "-byte file");
    data_start_ = 8 + header_bytes;
    header_ = hf_detail::parse_header(reinterpret_cast<const char*>(map_.data()) + 8, header_bytes,
                                      file_bytes - data_start_, path());
    for (size_t i = 0; i < header_.tensors.size(); ++i) by_name_[header_.tensors[i].name] = i;
    // The header's pages are read once: give them back as the ranges' pages are.
    release(0, data_start_ / page_size() * page_size());
  }

  // Drops the pages of [begin, end) (page-aligned) from this process; the page cache keeps them.
  void release(uint64_t begin, uint64_t end) const {
    if (end <= begin) return;
    if (::madvise(mapping() + begin, end - begin, MADV_DONTNEED) != 0) {
      const int err = errno;
      throw FileError("madvise", "cannot release the pages of", path(), err);
    }
  }

  // madvise takes a writable pointer; the advice it is given here never writes.
  unsigned char* mapping() const { return const_cast<unsigned char*>(map_.data()); }

  // Calls copy(src, done, n) for consecutive chunks of elements [first, first + count) of `t`
  // (src: the chunk's first byte in the mapping; done: elements before it), prefaulting each
  // chunk and dropping the pages that are fully inside what has been copied.
  template <typename Copy>
  void copy_range(const TensorEntry& t, int64_t first, int64_t count, Copy&& copy) const {
    const int64_t numel = t.numel();
    if (first < 0 || count < 0 || first > numel || count > numel - first)
      throw InfraError(path() + ": tensor '" + t.name + "': elements [" + std::to_string(first) +
                       ", " + std::to_string(first) + " + " + std::to_string(count) +
                       ") are outside its " + std::to_string(numel) + " elements");
    if (count == 0) return;
    const uint64_t es = dtype_bytes(t.dtype);
    const uint64_t range_begin = data_start_ + t.begin + static_cast<uint64_t>(first) * es;
    const uint64_t range_end = range_begin + static_cast<uint64_t>(count) * es;
    MPITUNE_CHECK(range_end <= data_start_ + t.end && range_end <= map_.size(),
                  path() + ": tensor '" + t.name + "' range outside the mapping");
    const uint64_t page = page_size();
    const uint64_t chunk_elems = std::max<uint64_t>(1, kChunkBytes / es);
    uint64_t released = (range_begin + page - 1) / page * page;  // pages before it are shared
    int64_t done = 0;
    while (done < count) {
      const int64_t n = static_cast<int64_t>(
          std::min<uint64_t>(chunk_elems, static_cast<uint64_t>(count - done)));
      const uint64_t chunk_begin = range_begin + static_cast<uint64_t>(done) * es;
      const uint64_t chunk_end = chunk_begin + static_cast<uint64_t>(n) * es;
      prefault(chunk_begin, chunk_end);
      copy(map_.data() + chunk_begin, done, n);
      done += n;
      const uint64_t full_pages_end = chunk_end / page * page;
      if (full_pages_end > released) {
        release(released, full_pages_end);
        released = full_pages_end;
      }
    }
  }

  void prefault(uint64_t begin, uint64_t end) const {
    const uint64_t page = page_size();
    const uint64_t a = begin / page * page;
    if (::madvise(mapping() + a, end - a, MADV_POPULATE_READ) != 0) {
      // EINVAL: a kernel before 5.14; the copy faults the pages in instead. EFAULT/EIO would be
      // a file truncated under us or a read error, which the copy then reports as SIGBUS:
      // name the file first.
      const int err = errno;
      if (err == EINVAL || err == ENOSYS || err == EINTR) return;
      throw FileError("madvise", "cannot read the pages of", path(), err);
    }
  }

  MappedFile map_;
  hf_detail::SafetensorsHeader header_;
  std::unordered_map<std::string, size_t> by_name_;
  uint64_t data_start_ = 0;
};

}  // namespace

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  return std::make_unique<MappedSafetensorsFile>(path);
}

}  // namespace mpitune
