// Global heap collections checked before HDF5 parses them (see global_heap_check.hpp).
#include "global_heap_check.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "h5_support.hpp"

namespace mpitune::h5 {
namespace {

constexpr char kSuperblockSignature[] = "\x89HDF\r\n\x1a\n";
constexpr char kCollectionSignature[] = "GCOL";
constexpr size_t kSearchBlockBytes = size_t{1} << 20;

// Owns a read-only descriptor; every call's failure is an InfraError naming the file.
class ReadOnlyFile {
 public:
  explicit ReadOnlyFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail("open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("fstat");
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~ReadOnlyFile() { ::close(fd_); }  // read-only: close cannot lose data
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

  uint64_t size() const { return size_; }

  // Up to `bytes` bytes at `offset` (fewer at the end of the file).
  std::vector<unsigned char> read(uint64_t offset, size_t bytes) const {
    std::vector<unsigned char> out(bytes);
    size_t done = 0;
    while (done < bytes) {
      const ssize_t n = ::pread(fd_, out.data() + done, bytes - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("pread");
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return out;
  }

 private:
  [[noreturn]] void fail(const char* call) const {
    throw InfraError(std::string(call) + " '" + path_ + "' failed: " + std::strerror(errno));
  }

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

uint64_t decode_le(const unsigned char* p, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = bytes; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

// The superblock's size of lengths (2, 4 or 8), or 0 when there is no superblock at byte 0.
size_t size_of_lengths(const ReadOnlyFile& file) {
  const std::vector<unsigned char> head = file.read(0, 16);
  if (head.size() < 16 || std::memcmp(head.data(), kSuperblockSignature, 8) != 0) return 0;
  const unsigned version = head[8];
  // Versions 0 and 1 keep the sizes at bytes 13 and 14 (after four version bytes), 2 and 3
  // at bytes 9 and 10.
  const size_t lengths = version <= 1 ? head[14] : head[10];
  if (lengths != 2 && lengths != 4 && lengths != 8)
    throw BadFileError("the superblock gives lengths of " + std::to_string(lengths) + " bytes");
  return lengths;
}

// Walks the objects of the collection at `offset` the way HDF5's parser does and throws when
// one would take the walk outside the collection or not move it forward.
void check_collection(const ReadOnlyFile& file, uint64_t offset, size_t lengths) {
  const size_t header = 8 + lengths;                // signature, version, reserved, size
  const size_t object_header = 2 + 2 + 4 + lengths;  // index, references, reserved, size
  const std::vector<unsigned char> head = file.read(offset, header);
  if (head.size() < header)
    throw BadFileError("the global heap at byte " + std::to_string(offset) + " is cut off");
  const uint64_t size = decode_le(head.data() + 8, lengths);
  const std::string where =
      "the global heap at byte " + std::to_string(offset) + " (which holds the root attributes' text)";
  if (size < header + object_header || size > file.size() - offset)
    throw BadFileError(where + " claims " + std::to_string(size) + " bytes");

  const std::vector<unsigned char> bytes = file.read(offset, static_cast<size_t>(size));
  uint64_t p = header;
  bool free_space_seen = false;
  while (p < size) {
    if (size - p < object_header) break;  // a tail too short for an object: free space
    const unsigned index = static_cast<unsigned>(decode_le(&bytes[p], 2));
    const uint64_t object_size = decode_le(&bytes[p + 8], lengths);
    uint64_t need = 0;
    if (index == 0) {  // free space: its size includes its header
      if (free_space_seen) throw BadFileError(where + " has two free-space entries");
      free_space_seen = true;
      need = object_size;
      if (need < object_header)
        throw BadFileError(where + " has a free-space entry of " + std::to_string(need) + " bytes");
    } else {
      if (object_size > size)
        throw BadFileError(where + ": object " + std::to_string(index) + " claims " + std::to_string(object_size) +
                           " bytes");
      need = object_header + ((object_size + 7) & ~uint64_t{7});
    }
    if (need > size - p)
      throw BadFileError(where + ": object " + std::to_string(index) + " runs past the end of the heap");
    p += need;
  }
}

}  // namespace

void check_global_heaps(const std::string& path) {
  const ReadOnlyFile file(path);
  const size_t lengths = size_of_lengths(file);
  if (lengths == 0) return;
  // The signature and the version byte after it.
  constexpr size_t kProbeBytes = 5;
  for (uint64_t block = 0; block < file.size(); block += kSearchBlockBytes) {
    // Each block is read with the next one's first bytes, so that a signature starting in it
    // is seen whole with its version; a hit that starts beyond the block is the next block's.
    const std::vector<unsigned char> bytes = file.read(block, kSearchBlockBytes + kProbeBytes - 1);
    const unsigned char* begin = bytes.data();
    const unsigned char* end = begin + bytes.size();
    for (const unsigned char* at = begin; end - at >= static_cast<ptrdiff_t>(kProbeBytes);) {
      const void* found = memmem(at, static_cast<size_t>(end - at), kCollectionSignature, 4);
      if (!found) break;
      const auto* hit = static_cast<const unsigned char*>(found);
      if (hit - begin >= static_cast<ptrdiff_t>(kSearchBlockBytes)) break;
      if (end - hit >= static_cast<ptrdiff_t>(kProbeBytes) && hit[4] == 1)
        check_collection(file, block + static_cast<uint64_t>(hit - begin), lengths);
      at = hit + 1;
    }
  }
}

}  // namespace mpitune::h5
