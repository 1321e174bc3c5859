// The few file-system calls the safetensors reader and writer need, as POSIX calls that throw
// InfraError naming the path and errno's text. POSIX rather than std::filesystem: a pip
// libtorch exports its own copy of std::filesystem's symbols (see train/state_io.cpp), and
// mpitune_hf is linked into the libtorch layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mpitune::hf_io {

[[noreturn]] void throw_errno(const std::string& what, const std::string& path);

std::string join_path(const std::string& dir, const std::string& name);
std::string parent_dir(const std::string& path);

bool is_regular_file(const std::string& path);
bool is_directory(const std::string& path);
std::vector<std::string> list_dir(const std::string& dir);  // names, without "." and ".."
void make_dirs(const std::string& dir);                      // mkdir -p
void remove_file(const std::string& path);
void fsync_dir(const std::string& dir);

std::string read_text_file(const std::string& path);
// Reads exactly `bytes` at `offset` of an open file (InfraError on a short read).
void pread_exact(int fd, void* out, size_t bytes, uint64_t offset, const std::string& path);

// A file that appears under its name only when complete: written to a temp file in the same
// folder, fsync'ed, renamed over `path`, and the folder fsync'ed. Destroyed uncommitted (an
// exception while writing), it removes the temp file and leaves `path` as it was.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t bytes);
  void commit();

 private:
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
};

}  // namespace mpitune::hf_io
