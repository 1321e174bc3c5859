// POSIX file I/O for every layer (see file_io.hpp). Each system call's return code is checked;
// a descriptor opened here is O_CLOEXEC, so a child process (mpirun's, a dlopen'ed module's)
// never inherits it.
#include "mpitune/core/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace mpitune {
namespace {

// Throws the FileError of the call that just failed. errno is read before anything else runs
// (building the message's strings allocates, and allocation may change errno).
[[noreturn]] void throw_errno(const char* call, const char* what, const std::string& path) {
  const int err = errno;
  throw FileError(call, what, path, err);
}

// Closes `fd` after an earlier failure: that failure is the one to report.
void close_quietly(int fd) { (void)::close(fd); }

// Opens `path` for reading and fills `st`; the caller closes the descriptor.
int open_for_reading(const std::string& path, struct stat& st) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("open", "cannot open", path);
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    close_quietly(fd);
    throw FileError("fstat", "cannot stat", path, err);
  }
  return fd;
}

// The whole file into `out` (std::string or std::vector<uint8_t>).
template <typename Buffer>
void read_whole_file(const std::string& path, Buffer& out) {
  struct stat st {};
  const int fd = open_for_reading(path, st);
  out.clear();
  out.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  // Read until EOF; past the stat'ed size (a file that grew meanwhile, or one of /proc that
  // says 0) through a small buffer, so the usual case reads straight into `out`.
  unsigned char tail[16384];
  for (;;) {
    const bool past_size = done == out.size();
    void* dst = past_size ? static_cast<void*>(tail) : static_cast<void*>(&out[done]);
    const size_t room = past_size ? sizeof tail : out.size() - done;
    const ssize_t n = ::read(fd, dst, room);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close_quietly(fd);
      throw FileError("read", "cannot read", path, err);
    }
    if (n == 0) break;
    if (past_size) out.insert(out.end(), tail, tail + n);
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  if (::close(fd) != 0) throw_errno("close", "cannot close", path);
}

FileStatus status_of(const struct stat& st) {
  FileStatus s;
  if (S_ISREG(st.st_mode)) {
    s.kind = FileKind::regular;
  } else if (S_ISDIR(st.st_mode)) {
    s.kind = FileKind::directory;
  } else if (S_ISLNK(st.st_mode)) {
    s.kind = FileKind::symlink;
  }
  s.size = static_cast<int64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + static_cast<int64_t>(st.st_mtim.tv_nsec);
  return s;
}

}  // namespace

FileError::FileError(std::string call, const std::string& what, std::string path, int error_number)
    : InfraError(what + " '" + path + "': " + std::strerror(error_number)),
      call_(std::move(call)),
      path_(std::move(path)),
      error_number_(error_number) {}

// ---- whole files ----

std::string read_file_text(const std::string& path) {
  std::string out;
  read_whole_file(path, out);
  return out;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::vector<uint8_t> out;
  read_whole_file(path, out);
  return out;
}

void write_file_atomic(const std::string& path, const void* data, size_t bytes) {
  AtomicFile file(path);
  file.write(data, bytes);
  file.commit();
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  // In the same folder: rename is atomic only within one file system.
  std::string name = path_ + ".tmp.XXXXXX";
  fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd_ < 0) throw_errno("mkostemp", "cannot create a temp file for", path_);
  temp_ = name;
  // mkostemp makes the file 0600.
  if (::fchmod(fd_, 0644) != 0) {
    const int err = errno;
    close_quietly(fd_);
    fd_ = -1;
    (void)::unlink(temp_.c_str());
    throw FileError("fchmod", "cannot set the mode of", temp_, err);
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    // Abandoned (an exception while writing): nothing to report, the exception already is.
    close_quietly(fd_);
    (void)::unlink(temp_.c_str());
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
      throw_errno("write", "cannot write", temp_);
    }
    done += static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  MPITUNE_CHECK(fd_ >= 0, "'" + path_ + "' committed twice");
  if (::fsync(fd_) != 0) throw_errno("fsync", "cannot flush", temp_);  // the destructor cleans up
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    (void)::unlink(temp_.c_str());
    throw FileError("close", "cannot close", temp_, err);
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    (void)::unlink(temp_.c_str());
    throw FileError("rename", "cannot rename into", path_, err);
  }
  fsync_dir(parent_dir(path_));
}

MappedFile::MappedFile(const std::string& path) : path_(path) {
  struct stat st {};
  const int fd = open_for_reading(path_, st);
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {  // mmap refuses a length of 0
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      close_quietly(fd);
      throw FileError("mmap", "cannot map", path_, err);
    }
    data_ = static_cast<unsigned char*>(p);
  }
  if (::close(fd) != 0) {  // the mapping keeps the file itself open
    const int err = errno;
    if (data_ != nullptr) (void)::munmap(data_, size_);
    throw FileError("close", "cannot close", path_, err);
  }
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) (void)::munmap(data_, size_);  // fails only for arguments mmap gave
}

// ---- paths and status ----

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

FileStatus file_status(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_errno("stat", "cannot stat", path);
  return status_of(st);
}

FileStatus symlink_status(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw_errno("lstat", "cannot stat", path);
  return status_of(st);
}

// ---- folders ----

std::vector<std::string> list_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) throw_errno("opendir", "cannot list", dir);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;  // readdir's only way to tell the end from a failure
    const dirent* e = ::readdir(d);
    if (e == nullptr) {
      const int err = errno;
      if (err == 0) break;
      (void)::closedir(d);
      throw FileError("readdir", "cannot list", dir, err);
    }
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  if (::closedir(d) != 0) throw_errno("closedir", "cannot close the folder", dir);
  std::sort(names.begin(), names.end());
  return names;
}

void make_dirs(const std::string& path) {
  // Every prefix that ends before a '/', then the path itself; an existing folder is fine.
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos < path.size() && path[pos] != '/') continue;
    const std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0777) == 0) continue;
    const int err = errno;
    if (err == EEXIST && is_directory(prefix)) continue;
    throw FileError("mkdir", "cannot create the folder", prefix, err == EEXIST ? ENOTDIR : err);
  }
}

void remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("unlink", "cannot remove", path);
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("open", "cannot open the folder", dir);
  if (::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    const int err = errno;
    close_quietly(fd);
    throw FileError("fsync", "cannot flush the folder", dir, err);
  }
  if (::close(fd) != 0) throw_errno("close", "cannot close the folder", dir);
}

}  // namespace mpitune
