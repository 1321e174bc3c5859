// check_output_path: refuses what cannot or must not be written, and leaves nothing behind.
// OutputLock: one job per output; a killed holder's lock file is taken over.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "mpitune/core/error.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

// The message of the ConfigError check_output_path throws, or "" when it accepts the path.
std::string output_error(const std::string& path, bool overwrite) {
  try {
    check_output_path(path, overwrite);
    return "";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "experiment.output");
    return e.what();
  }
}

size_t entries_in(const std::string& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(OutputPath, ExistingFileNeedsOverwrite) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  testing::write_file(path, "old");
  const std::string msg = output_error(path, false);
  EXPECT_NE(msg.find("exists"), std::string::npos) << msg;
  EXPECT_NE(msg.find("set experiment.overwrite = true or choose another output"), std::string::npos) << msg;
  EXPECT_EQ(output_error(path, true), "");
  EXPECT_EQ(testing::read_file(path), "old");  // checking never touches the file
}

TEST(OutputPath, MissingDirectoriesAreFineButNotCreated) {
  TempDir dir;
  EXPECT_EQ(output_error(dir.file("x/y/z/run.h5"), false), "");
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(OutputPath, AncestorThatIsAFileMakesThePathUncreatable) {
  // Tests run as root, for whom permission bits do not stop writes; a regular file in the
  // middle of the path stops everyone.
  TempDir dir;
  testing::write_file(dir.file("plain"), "x");
  const std::string msg = output_error(dir.file("plain/sub/run.h5"), false);
  EXPECT_NE(msg.find("is not a directory"), std::string::npos) << msg;
  EXPECT_NE(output_error(dir.file("plain/run.h5"), true), "");
  EXPECT_EQ(entries_in(dir.path()), 1u);
}

TEST(OutputPath, DirectoriesAndEmptyPathsAreRefused) {
  TempDir dir;
  EXPECT_NE(output_error(dir.path(), true).find("is a directory"), std::string::npos);
  EXPECT_NE(output_error("", false), "");
  EXPECT_NE(output_error(dir.path() + "/..", true), "");
}

TEST(OutputPath, CreateStoreChecksBeforeWriting) {
  TempDir dir;
  testing::write_file(dir.file("plain"), "x");
  EXPECT_THROW(create_hdf5_store(dir.file("plain/deeper/run.h5"), false), ConfigError);
  EXPECT_EQ(entries_in(dir.path()), 1u);
  EXPECT_EQ(testing::read_file(dir.file("plain")), "x");
}

TEST(OutputPath, AFolderNoFileCanBeCreatedInIsRefusedThoughAccessMaySayYes) {
  // /proc takes no new files, not even root's (for whom access(2) says W_OK).
  std::string msg = output_error("/proc/x.h5", false);
  EXPECT_NE(msg.find("cannot create '/proc/x.h5'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'/proc'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("choose another output"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  // Missing folders below it: the first existing ancestor is probed.
  EXPECT_NE(output_error("/proc/results/x.h5", false).find("'/proc'"), std::string::npos);
  // A read-only folder stops everyone but root; as root, a folder inside /proc stands in.
  TempDir dir;
  std::string read_only = "/proc/self";
  if (geteuid() != 0) {
    read_only = dir.file("ro");
    ASSERT_EQ(mkdir(read_only.c_str(), 0555), 0);
  }
  msg = output_error(read_only + "/run.h5", false);
  EXPECT_NE(msg.find("no file can be created in '" + read_only + "'"), std::string::npos) << msg;
}

TEST(OutputPath, AnExistingFileIsProbedInItsFolderAndLeftAsItWas) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  testing::write_file(path, "old");
  EXPECT_EQ(output_error(path, true), "");
  EXPECT_EQ(entries_in(dir.path()), 1u);  // no probe file left
  EXPECT_EQ(testing::read_file(path), "old");
  EXPECT_NE(output_error("/proc/version", true), "");  // its folder takes no lock file
}

// The message of the ConfigError acquire throws, or "" when it takes the lock.
std::string lock_error(OutputLock& lock, const std::string& output) {
  try {
    lock.acquire(output);
    return "";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "experiment.output");
    return e.what();
  }
}

std::string host() {
  char buf[256] = {};
  EXPECT_EQ(gethostname(buf, sizeof buf - 1), 0);
  return buf;
}

TEST(OutputLock, TwoLocksOnOneOutputExcludeEachOtherUntilReleased) {
  TempDir dir;
  const std::string out = dir.file("sub/run.h5");
  OutputLock first, second;
  EXPECT_EQ(lock_error(first, out), "");
  EXPECT_TRUE(first.held());
  EXPECT_EQ(first.lock_path(), out + ".lock");
  EXPECT_TRUE(fs::is_regular_file(out + ".lock"));  // the folder was made for it
  EXPECT_EQ(first.stale_holder(), "");
  const std::string msg = lock_error(second, out);
  const std::string expected = "experiment.output: '" + out + "' is being written by another job (pid " +
                               std::to_string(getpid()) + " on host " + host() + ", since ";
  EXPECT_EQ(msg.rfind(expected, 0), 0u) << msg;
  EXPECT_NE(msg.find(" UTC); wait for it, or choose another output"), std::string::npos) << msg;
  EXPECT_FALSE(second.held());
  first.release();
  EXPECT_FALSE(first.held());
  EXPECT_FALSE(fs::exists(out + ".lock"));
  EXPECT_EQ(lock_error(second, out), "");
  EXPECT_EQ(second.stale_holder(), "");  // a released lock leaves no file to take over
}

TEST(OutputLock, HeldByAnotherProcessThenTakenOverWhenThatProcessIsKilled) {
  TempDir dir;
  const std::string out = dir.file("run.h5");
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The other job: takes the lock, says so, and dies without releasing it when told.
    close(ready[0]);
    close(go[1]);
    char status = 'L';
    try {
      OutputLock lock;
      lock.acquire(out);
      if (write(ready[1], &status, 1) != 1) _exit(3);
      char c;
      if (read(go[0], &c, 1) < 0) _exit(4);
      raise(SIGKILL);
    } catch (...) {
      status = 'E';
      if (write(ready[1], &status, 1) != 1) _exit(3);
    }
    _exit(2);
  }
  close(ready[1]);
  close(go[0]);
  char status = 0;
  ASSERT_EQ(read(ready[0], &status, 1), 1);
  ASSERT_EQ(status, 'L');
  // A reader sees the live writer, and its probe does not disturb it.
  const OutputWriter live = probe_output_writer(out);
  EXPECT_EQ(live.state, OutputWriter::State::Live);
  EXPECT_EQ(live.holder.rfind("pid " + std::to_string(child) + " on host ", 0), 0u) << live.holder;
  OutputLock mine;
  const std::string msg = lock_error(mine, out);
  EXPECT_NE(msg.find("is being written by another job (pid " + std::to_string(child) + " on host "),
            std::string::npos) << msg;
  EXPECT_FALSE(mine.held());
  // Killed: the kernel drops its lock, the lock file stays behind.
  ASSERT_EQ(write(go[1], "k", 1), 1);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << wstatus;
  close(ready[0]);
  close(go[1]);
  ASSERT_TRUE(fs::exists(out + ".lock"));
  // The writer is gone though its lock file is not: a reader can say so.
  const OutputWriter gone = probe_output_writer(out);
  EXPECT_EQ(gone.state, OutputWriter::State::Gone);
  EXPECT_EQ(gone.holder, live.holder);
  EXPECT_EQ(lock_error(mine, out), "");
  EXPECT_TRUE(mine.held());
  EXPECT_EQ(mine.stale_holder().rfind("pid " + std::to_string(child) + " on host ", 0), 0u) << mine.stale_holder();
  EXPECT_NE(testing::read_file(out + ".lock").find("pid " + std::to_string(getpid()) + "\n"), std::string::npos);
  EXPECT_EQ(probe_output_writer(out).state, OutputWriter::State::Live);  // this process now
  mine.release();
  EXPECT_FALSE(fs::exists(out + ".lock"));
  EXPECT_EQ(probe_output_writer(out).state, OutputWriter::State::None);
}

}  // namespace
}  // namespace mpitune
