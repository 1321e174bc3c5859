// check_output_path: may a result file be written at this path? Decided before anything is
// written, so a bad `experiment.output` fails the job with one line and leaves no file behind.
// OutputLock: one job at a time writes a given output, so a second job started on the same
// path (with overwrite = true, say) stops with one line instead of destroying the first's data.
//
// access(2) is not asked whether a folder is writable: it answers for permission bits only, and
// says yes to root for /proc or a read-only mount. The check really creates a probe file in the
// folder that will hold the output (O_CREAT | O_EXCL, removed at once), which is the question
// HDF5 will ask later.
//
// The lock is flock(2) on "<output>.lock": per open file description (two jobs, or two locks
// of one process, exclude each other), released by the kernel when the holder dies, so a lock
// file left by a killed job is free to take over. The file names its holder for the message.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace mpitune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kField = "experiment.output";

fs::file_status status_of(const fs::path& p) {
  std::error_code ec;
  return fs::status(p, ec);  // not_found (also for "a/file/below-a-file") or the real type
}

std::string errno_text(int e) { return std::strerror(e); }

// Creates and removes a file in `dir`. Returns 0, or the errno of the failed creation.
int probe_create(const std::string& dir, const std::string& base) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string probe = join_path(dir, "." + base + ".probe-" + std::to_string(getpid()) + "-" +
                                                 std::to_string(attempt));
    const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;  // somebody's file of that name: try another name
      if (errno == EINTR) {
        --attempt;
        continue;
      }
      return errno;
    }
    const bool closed = close(fd) == 0;
    const int close_errno = errno;
    if (unlink(probe.c_str()) != 0)
      throw InfraError("cannot remove the probe file '" + probe + "': " + errno_text(errno));
    if (!closed) return close_errno;
    return 0;
  }
  throw InfraError("cannot find a free probe file name in '" + dir + "' (100 tried)");
}

// The one-line refusal when no file can be created in `dir`, the folder that will hold `path`.
void require_creatable(const std::string& path, const std::string& dir) {
  const int e = probe_create(dir, fs::path(path).filename().string());
  if (e != 0)
    throw ConfigError(kField, "cannot create '" + path + "': no file can be created in '" + dir + "' (" + errno_text(e) + ")",
                      "choose another output, in a folder you may write");
}

// An existing file may be overwritten only if it can be opened for writing (without
// truncating it: the check changes nothing).
void require_writable_file(const std::string& path) {
  int fd;
  do fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    throw ConfigError(kField, "'" + path + "' exists and is not writable (" + errno_text(errno) + ")",
                      "choose another output");
  if (close(fd) != 0) throw InfraError("cannot close '" + path + "': " + errno_text(errno));
}

}  // namespace

void check_output_path(const std::string& path, bool overwrite) {
  if (path.empty()) throw ConfigError(kField, "is empty", "give a file name such as results/{name}.h5");
  const fs::path p(path);
  const fs::file_status st = status_of(p);
  if (fs::exists(st)) {
    if (fs::is_directory(st))
      throw ConfigError(kField, "'" + path + "' is a directory", "give a file name such as " + path + "/results.h5");
    if (!overwrite)
      throw ConfigError(kField, "'" + path + "' exists", "set experiment.overwrite = true or choose another output");
    if (!fs::is_regular_file(st))
      throw ConfigError(kField, "'" + path + "' exists and is not a regular file", "choose another output");
    require_writable_file(path);
    require_creatable(path, parent_dir(path));  // the lock file goes next to it
    return;
  }
  if (p.has_filename() == false || p.filename() == "." || p.filename() == "..")
    throw ConfigError(kField, "'" + path + "' names a directory", "give a file name such as results/{name}.h5");

  // The file and maybe some parent directories are missing: the first ancestor that exists
  // must be a directory we may create entries in (the missing folders are made there).
  fs::path ancestor = p.parent_path();
  while (!ancestor.empty() && !fs::exists(status_of(ancestor))) ancestor = ancestor.parent_path();
  if (ancestor.empty()) ancestor = p.is_absolute() ? fs::path("/") : fs::path(".");
  const fs::file_status ast = status_of(ancestor);
  if (!fs::is_directory(ast))
    throw ConfigError(kField,
                      "cannot create '" + path + "': '" + ancestor.string() + "' is not a directory",
                      "choose another output");
  require_creatable(path, ancestor.string());
}

// ---- OutputLock ----

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  char buf[32];
  if (now == static_cast<std::time_t>(-1) || !gmtime_r(&now, &tm) ||
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    return "an unknown time";
  return buf;
}

// The value of the "key value" line of a lock file, or "".
std::string field_of(const std::string& text, const std::string& key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    if (line.compare(0, key.size() + 1, key + " ") == 0) return line.substr(key.size() + 1);
    pos = end + 1;
  }
  return "";
}

// "pid 4242 on host node7, since 2024-05-01 10:00:00 UTC", from the holder's lock file text.
std::string describe_holder(const std::string& text) {
  const std::string pid = field_of(text, "pid"), host = field_of(text, "host"), since = field_of(text, "since");
  if (pid.empty()) return "holder not recorded yet";
  return "pid " + pid + " on host " + (host.empty() ? "unknown" : host) + ", since " +
         (since.empty() ? "an unknown time" : since);
}

// The whole content of an open file (it is small: three lines).
std::string read_all(int fd, const std::string& path) {
  std::string text;
  char buf[512];
  for (off_t off = 0;;) {
    const ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InfraError("cannot read the lock file '" + path + "': " + errno_text(errno));
    if (n == 0 || text.size() > 4096) return text;
    text.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

void write_all(int fd, const std::string& text, const std::string& path) {
  if (ftruncate(fd, 0) != 0) throw InfraError("cannot truncate the lock file '" + path + "': " + errno_text(errno));
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw InfraError("cannot write the lock file '" + path + "': " + errno_text(errno));
    done += static_cast<size_t>(n);
  }
}

}  // namespace

OutputLock::~OutputLock() { release(); }

void OutputLock::acquire(const std::string& output) {
  MPITUNE_CHECK(fd_ < 0, "OutputLock::acquire while '" + lock_path_ + "' is held");
  const std::string lock = output + ".lock";
  try {
    make_dirs(parent_dir(lock));  // the store would make them next anyway
  } catch (const FileError& e) {
    throw ConfigError(kField, "cannot create the folder of '" + output + "': " + e.what(), "choose another output");
  }
  // A holder that releases unlinks the file while it still holds the lock. Whoever opened the
  // old file just before that gets the lock of an unlinked file: it notices (the path names
  // another file, or none) and starts again, so two jobs never both hold "the" lock.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0644);
    if (fd < 0) {
      if (errno == EINTR) continue;
      throw ConfigError(kField, "cannot create the lock file '" + lock + "' (" + errno_text(errno) + ")",
                        "choose another output, in a folder you may write");
    }
    int rc;
    // A few tries over ~0.1 s: a reader's probe (probe_output_writer) holds a shared lock for an
    // instant; a live job holds it for hours.
    for (int busy = 0; busy < 5; ++busy) {
      do rc = flock(fd, LOCK_EX | LOCK_NB);
      while (rc != 0 && errno == EINTR);
      if (rc == 0 || errno != EWOULDBLOCK) break;
      usleep(20000);
    }
    if (rc != 0) {
      const int e = errno;
      std::string holder;
      if (e == EWOULDBLOCK) {
        try {
          holder = describe_holder(read_all(fd, lock));
        } catch (const InfraError&) {
          holder = "holder unreadable";
        }
      }
      close(fd);  // the lock was not taken: nothing to undo, whatever close says
      if (e == EWOULDBLOCK)
        throw ConfigError(kField, "'" + output + "' is being written by another job (" + holder + ")",
                          "wait for it, or choose another output");
      throw InfraError("cannot lock '" + lock + "' (flock): " + errno_text(e));
    }
    struct stat mine {}, named {};
    if (fstat(fd, &mine) != 0) {
      const int e = errno;
      close(fd);
      throw InfraError("cannot stat the lock file '" + lock + "': " + errno_text(e));
    }
    if (stat(lock.c_str(), &named) != 0 || named.st_ino != mine.st_ino || named.st_dev != mine.st_dev) {
      close(fd);  // released and removed under us: start again
      continue;
    }
    fd_ = fd;
    lock_path_ = lock;
    try {
      stale_holder_.clear();
      const std::string previous = read_all(fd, lock);
      if (!previous.empty()) stale_holder_ = describe_holder(previous);
      write_all(fd, "pid " + std::to_string(getpid()) + "\nhost " + host_name() + "\nsince " + utc_now() + "\n", lock);
    } catch (...) {
      release();
      throw;
    }
    return;
  }
  throw InfraError("cannot lock '" + lock + "': it was replaced 100 times in a row while locking");
}

void OutputLock::release() noexcept {
  if (fd_ < 0) return;
  // Unlink first, while the lock is still held (see acquire).
  if (unlink(lock_path_.c_str()) != 0 && errno != ENOENT)
    std::fprintf(stderr, "mpitune: warning: cannot remove the lock file '%s': %s\n", lock_path_.c_str(),
                 std::strerror(errno));
  if (close(fd_) != 0)
    std::fprintf(stderr, "mpitune: warning: cannot close the lock file '%s': %s\n", lock_path_.c_str(),
                 std::strerror(errno));
  fd_ = -1;
}

OutputWriter probe_output_writer(const std::string& output) {
  OutputWriter w;
  const std::string lock = output + ".lock";
  int fd;
  do fd = open(lock.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return w;  // no lock file (or unreadable: nothing can be said)
  int rc;
  do rc = flock(fd, LOCK_SH | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  const int e = rc == 0 ? 0 : errno;
  if (rc == 0) flock(fd, LOCK_UN);
  try {
    w.holder = describe_holder(read_all(fd, lock));
  } catch (const InfraError&) {
    w.holder = "holder unreadable";
  }
  close(fd);
  if (rc == 0) w.state = OutputWriter::State::Gone;
  else if (e == EWOULDBLOCK) w.state = OutputWriter::State::Live;
  return w;
}

}  // namespace mpitune
