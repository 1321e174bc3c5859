// POSIX file helpers of the data layer (see posix_io.hpp).
#include "posix_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mpitune/core/error.hpp"

namespace mpitune::data_io {

void throw_io(const std::string& what, const std::string& path, int err) {
  throw InfraError(what + " '" + path + "': " + std::strerror(err));
}

std::string parent_folder(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

void make_folders(const std::string& path) {
  if (path.empty()) return;
  // Make every prefix ending before a '/', then the path itself; EEXIST is fine for a folder.
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos < path.size() && path[pos] != '/') continue;
    const std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0777) == 0) continue;
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
    throw_io("cannot make the folder", prefix, err == EEXIST ? ENOTDIR : err);
  }
}

int read_whole_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return err;
  }
  out.clear();
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  // Read until EOF; past the stat'ed size (a file that grew meanwhile) through a small buffer,
  // so the usual case reads straight into `out` without a reallocation.
  char tail[16384];
  for (;;) {
    const bool past_size = done == out.size();
    char* dst = past_size ? tail : &out[done];
    const size_t room = past_size ? sizeof tail : out.size() - done;
    const ssize_t n = ::read(fd, dst, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    if (past_size) out.append(tail, static_cast<size_t>(n));
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  if (::close(fd) != 0) return errno;
  return 0;
}

void write_all(int fd, const void* data, size_t bytes, const std::string& path) {
  const auto* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot write", path, errno);
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void fsync_folder(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);  // best effort, see the header
  ::close(fd);
}

}  // namespace mpitune::data_io
