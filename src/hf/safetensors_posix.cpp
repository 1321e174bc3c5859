// POSIX file helpers of the safetensors code (see safetensors_posix.hpp).
#include "safetensors_posix.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mpitune/core/error.hpp"

namespace mpitune::hf_io {

void throw_errno(const std::string& what, const std::string& path) {
  throw InfraError(what + " '" + path + "': " + std::strerror(errno));
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::vector<std::string> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw_errno("cannot list", dir);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
    errno = 0;
  }
  const int read_errno = errno;
  ::closedir(d);
  if (read_errno != 0) {
    errno = read_errno;
    throw_errno("cannot list", dir);
  }
  return names;
}

void make_dirs(const std::string& dir) {
  if (dir.empty() || is_directory(dir)) return;
  const std::string parent = parent_dir(dir);
  if (parent != dir) make_dirs(parent);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) throw_errno("cannot create folder", dir);
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("cannot remove", path);
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open folder", dir);
  // EINVAL: the file system does not sync folders (the rename is as durable as it can be).
  if (::fsync(fd) != 0 && errno != EINVAL) {
    const int e = errno;
    ::close(fd);
    errno = e;
    throw_errno("cannot flush folder", dir);
  }
  if (::close(fd) != 0) throw_errno("cannot close folder", dir);
}

std::string read_text_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open", path);
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      errno = e;
      throw_errno("cannot read", path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (::close(fd) != 0) throw_errno("cannot close", path);
  return text;
}

void pread_exact(int fd, void* out, size_t bytes, uint64_t offset, const std::string& path) {
  auto* p = static_cast<char*>(out);
  size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::pread(fd, p + done, bytes - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read", path);
    }
    if (n == 0)
      throw InfraError("cannot read '" + path + "': it ended " + std::to_string(offset + done) +
                       " bytes in, " + std::to_string(bytes - done) + " bytes short");
    done += static_cast<size_t>(n);
  }
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  // mkostemp gives a name no other writer of the same file uses at the same time.
  std::string name = path_ + ".tmp.XXXXXX";
  fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd_ < 0) throw_errno("cannot create a temp file for", path_);
  tmp_ = name;
  // mkostemp makes the file 0600; a model folder is read by others as any saved file is.
  if (::fchmod(fd_, 0644) != 0) {
    const int e = errno;
    ::close(fd_);
    ::unlink(tmp_.c_str());
    errno = e;
    throw_errno("cannot set the mode of", tmp_);
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    // Abandoned (an exception while writing): nothing to report, the exception already is.
    (void)::close(fd_);
    (void)::unlink(tmp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t bytes) {
  MPITUNE_CHECK(fd_ >= 0, "write to '" + path_ + "' after commit");
  const auto* p = static_cast<const char*>(data);
  size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::write(fd_, p + done, bytes - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write", tmp_);
    }
    done += static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  MPITUNE_CHECK(fd_ >= 0, "'" + path_ + "' committed twice");
  if (::fsync(fd_) != 0) throw_errno("cannot flush", tmp_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp_.c_str());
    errno = e;
    throw_errno("cannot close", tmp_);
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp_.c_str());
    errno = e;
    throw_errno("cannot rename into", path_);
  }
  fsync_dir(parent_dir(path_));
}

}  // namespace mpitune::hf_io
