// Byte writer/reader, checksum and atomic files (see state_io.hpp). POSIX calls rather than
// std::filesystem: a pip libtorch exports its own copy of std::filesystem's symbols.
#include "mpitune/train/state_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

[[noreturn]] void fail_io(const std::string& what, const std::string& path) {
  throw InfraError(what + " '" + path + "': " + std::strerror(errno));
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: some filesystems do not allow it
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

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

void write_file_atomic(const std::string& path, const void* data, size_t bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail_io("cannot create", tmp);
  const auto* p = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::write(fd, p + done, bytes - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      errno = e;
      fail_io("cannot write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    fail_io("cannot flush", tmp);
  }
  if (::close(fd) != 0) fail_io("cannot close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail_io("cannot rename into", path);
  fsync_dir(parent_of(path));
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail_io("cannot open", path);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      errno = e;
      fail_io("cannot read", path);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

void make_dirs(const std::string& path) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) fail_io("cannot create folder", partial);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) fail_io("not a folder:", path);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail_io("cannot remove", path);
}

}  // namespace mpitune
