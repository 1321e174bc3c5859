// Files through POSIX calls, for every layer: whole-file reads, atomic writes (whole or
// streamed), a read-only mapping, folders, and the few path and status questions the layers
// ask. POSIX rather than std::filesystem: a pip libtorch (CUDA builds) exports its own copy of
// std::filesystem's symbols, and a program that binds to it crashes; the layers that end up in
// the same program as libtorch (data, hf, tokenize, train) touch files only through here.
//
// Every failure is a FileError, an InfraError whose message is "<what failed> '<path>':
// <strerror>" and which keeps the failed call, the path and errno: a caller for whom the
// failure is the user's (a corpus file that cannot be read) catches it and throws its own
// ConfigError. Core: no MPI, torch, HDF5 or JSON here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/error.hpp"

namespace mpitune {

class FileError : public InfraError {
 public:
  // call: the POSIX function that failed ("open", "read", "rename"), for callers that tell
  // failures apart; what: the message's words for it ("cannot open", "cannot rename into").
  FileError(std::string call, const std::string& what, std::string path, int error_number);
  const std::string& call() const { return call_; }
  const std::string& path() const { return path_; }
  int error_number() const { return error_number_; }

 private:
  std::string call_;
  std::string path_;
  int error_number_;
};

// ---- whole files ----

// The file's bytes. Reads until the end (a file that grows meanwhile is read whole), retrying
// EINTR. FileError with call "open" when it cannot be opened, "fstat", "read" or "close" after.
std::string read_file_text(const std::string& path);
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Writes `bytes` to `path` atomically (an AtomicFile: see there). A failure leaves `path` as
// it was and no temp file behind.
void write_file_atomic(const std::string& path, const void* data, size_t bytes);

// A file that appears under its name only when complete: written to a temp file of its own in
// the same folder (mkostemp: concurrent writers of one path do not collide; mode 0644, as any
// saved file is read by others), fsync'ed, renamed over `path`, and the folder fsync'ed. A
// crash leaves the old file or the new one, never half of one. Destroyed uncommitted (an
// exception while writing) or failing in commit, it removes the temp file.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // All of `bytes`, retrying short writes and EINTR. Unbuffered: callers that write small
  // pieces buffer them.
  void write(const void* data, size_t bytes);
  void commit();
  const std::string& temp_path() const { return temp_; }

 private:
  std::string path_;
  std::string temp_;
  int fd_ = -1;
};

// A whole file mapped read-only and shared (MAP_SHARED: every process of a node that maps the
// file reads the same page-cache pages). The descriptor is closed once mapped; the mapping
// lives until destruction. An empty file is not mapped: data() is null and size() 0.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

// ---- paths and status ----

// "dir/name"; `name` alone for an empty `dir`; no doubled '/' when `dir` ends in one.
std::string join_path(const std::string& dir, const std::string& name);
// The folder part of `path`: "." when it has none, "/" for "/x".
std::string parent_dir(const std::string& path);

// stat(2) answers, never throwing: false for a path that cannot be stat'ed for any reason.
// They follow symlinks (a dangling link does not exist).
bool file_exists(const std::string& path);  // anything: file, folder, device, ...
bool is_regular_file(const std::string& path);
bool is_directory(const std::string& path);

enum class FileKind { regular, directory, symlink, other };

struct FileStatus {
  FileKind kind = FileKind::other;
  int64_t size = 0;      // bytes
  int64_t mtime_ns = 0;  // last modification, nanoseconds since the epoch
};
// FileError (call "stat" / "lstat") when the path cannot be stat'ed.
FileStatus file_status(const std::string& path);     // follows a symlink
FileStatus symlink_status(const std::string& path);  // a symlink is FileKind::symlink

// ---- folders ----

// The names in `dir`, without "." and "..", sorted (byte order), so every caller walks a folder
// in the same order on every file system. FileError with call "opendir" when the folder cannot
// be opened, "readdir" or "closedir" after.
std::vector<std::string> list_dir(const std::string& dir);
// mkdir -p (mode 0777 less the umask). Nothing for "". FileError naming the first folder that
// cannot be made, or that exists as something else (ENOTDIR).
void make_dirs(const std::string& path);
// Removes a file; no error when it does not exist.
void remove_file(const std::string& path);
// Makes the renames and removals in `dir` durable. A file system that does not sync folders
// (fsync answers EINVAL or ENOTSUP) is not an error: the change is as durable as it gets.
void fsync_dir(const std::string& dir);

}  // namespace mpitune
