// The few POSIX file operations of the data layer, each checking its return code. POSIX calls
// rather than std::filesystem: the pip libtorch of CUDA builds exports its own copy of
// std::filesystem's symbols, and a program that binds to it crashes (see src/train/data.cpp).
// Internal to src/data.
#pragma once

#include <cstddef>
#include <string>

namespace mpitune::data_io {

// "what 'path': strerror(err)" as an InfraError.
[[noreturn]] void throw_io(const std::string& what, const std::string& path, int err);

// The folder part of `path`: "." when it has none, "/" for "/x".
std::string parent_folder(const std::string& path);

// mkdir -p. Throws InfraError naming the folder that could not be made (or that is a file).
void make_folders(const std::string& path);

// The whole file into `out`. Returns 0, or the errno of the failed call (the caller decides
// whether that is the user's error or the system's).
int read_whole_file(const std::string& path, std::string& out);

// Writes all `bytes`, retrying short writes and EINTR; InfraError naming `path` on failure.
void write_all(int fd, const void* data, size_t bytes, const std::string& path);

// Best effort: makes a rename in `dir` durable (some filesystems refuse to fsync a folder).
void fsync_folder(const std::string& dir);

}  // namespace mpitune::data_io
