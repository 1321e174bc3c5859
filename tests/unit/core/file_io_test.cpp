// The POSIX file module of core: whole-file reads, atomic writes that leave the old file when
// they fail, the read-only mapping, folders, status, and errors that name the call and path.
#include "mpitune/core/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::TempDir;
using testing::read_file;
using testing::write_file;

// The FileError `fn` throws (a test failure when it throws none).
FileError file_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const FileError& e) {
    return e;
  }
  ADD_FAILURE() << "no FileError thrown";
  return FileError("none", "none", "", 0);
}

std::string message(const char* what, const std::string& path, int err) {
  return std::string(what) + " '" + path + "': " + std::strerror(err);
}

TEST(FileIoRead, TextAndBytesHoldEveryByte) {
  TempDir dir;
  std::string content("a\0b\xff\n", 5);
  for (int i = 0; i < 40000; ++i) content += static_cast<char>('a' + i % 26);  // past the 16 KB tail buffer
  write_file(dir.file("f"), content);
  EXPECT_EQ(read_file_text(dir.file("f")), content);
  const std::vector<uint8_t> bytes = read_file_bytes(dir.file("f"));
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), content);

  write_file(dir.file("empty"), "");
  EXPECT_EQ(read_file_text(dir.file("empty")), "");
  EXPECT_TRUE(read_file_bytes(dir.file("empty")).empty());
}

TEST(FileIoRead, AFileThatStatsAsEmptyIsStillReadToItsEnd) {
  // /proc files say size 0 and have content: the read goes on past the stat'ed size.
  const std::string status = read_file_text("/proc/self/status");
  EXPECT_NE(status.find("Pid:"), std::string::npos);
}

TEST(FileIoRead, ErrorsNameTheCallThePathAndTheSystemsReason) {
  TempDir dir;
  const std::string missing = dir.file("missing");
  const FileError open = file_error_of([&] { read_file_text(missing); });
  EXPECT_EQ(open.call(), "open");
  EXPECT_EQ(open.path(), missing);
  EXPECT_EQ(open.error_number(), ENOENT);
  EXPECT_EQ(std::string(open.what()), message("cannot open", missing, ENOENT));
  EXPECT_THROW(read_file_bytes(missing), InfraError);

  // A folder opens for reading; reading it fails.
  const FileError read = file_error_of([&] { read_file_bytes(dir.path()); });
  EXPECT_EQ(read.call(), "read");
  EXPECT_EQ(read.error_number(), EISDIR);
  EXPECT_EQ(std::string(read.what()), message("cannot read", dir.path(), EISDIR));
}

TEST(FileIoAtomicWrite, ReplacesTheFileAndLeavesNoTempFile) {
  TempDir dir;
  const std::string path = dir.file("f");
  write_file_atomic(path, "abc", 3);
  EXPECT_EQ(read_file(path), "abc");
  write_file_atomic(path, "defg", 4);
  EXPECT_EQ(read_file(path), "defg");
  write_file_atomic(path, nullptr, 0);
  EXPECT_EQ(read_file(path), "");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);  // not mkostemp's 0600: others read saved files
}

TEST(FileIoAtomicWrite, AParentThatIsAFileFailsBeforeAnythingIsWritten) {
  TempDir dir;
  write_file(dir.file("plain"), "old");
  const std::string path = dir.file("plain/f");
  const FileError e = file_error_of([&] { write_file_atomic(path, "x", 1); });
  EXPECT_EQ(e.call(), "mkostemp");
  EXPECT_EQ(e.error_number(), ENOTDIR);
  EXPECT_NE(std::string(e.what()).find("'" + path + "'"), std::string::npos) << e.what();
  EXPECT_EQ(read_file(dir.file("plain")), "old");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"plain"});
}

TEST(FileIoAtomicWrite, AFailedRenameLeavesWhatWasThereAndRemovesTheTempFile) {
  TempDir dir;
  // A non-empty folder cannot be replaced by a file: the write reaches rename and fails there.
  const std::string target = dir.file("target");
  make_dirs(target);
  write_file(target + "/inside", "kept");
  const FileError e = file_error_of([&] { write_file_atomic(target, "new", 3); });
  EXPECT_EQ(e.call(), "rename");
  EXPECT_EQ(e.path(), target);
  EXPECT_NE(std::string(e.what()).find("cannot rename into '" + target + "'"), std::string::npos) << e.what();
  EXPECT_TRUE(is_directory(target));
  EXPECT_EQ(read_file(target + "/inside"), "kept");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"target"});
}

TEST(FileIoAtomicFile, StreamsIntoATempFileUntilCommitted) {
  TempDir dir;
  const std::string path = dir.file("f");
  write_file(path, "old");
  AtomicFile file(path);
  EXPECT_EQ(parent_dir(file.temp_path()), dir.path());  // same folder: rename stays atomic
  file.write("new ", 4);
  file.write("content", 7);
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(read_file(file.temp_path()), "new content");
  file.commit();
  EXPECT_EQ(read_file(path), "new content");
  EXPECT_FALSE(file_exists(file.temp_path()));
  EXPECT_THROW(file.write("x", 1), InfraError);
  EXPECT_THROW(file.commit(), InfraError);
}

TEST(FileIoAtomicFile, AbandonedItLeavesTheOldFileAndNoTempFile) {
  TempDir dir;
  const std::string path = dir.file("f");
  write_file(path, "old");
  std::string temp;
  try {
    AtomicFile file(path);
    temp = file.temp_path();
    file.write("half", 4);
    throw std::runtime_error("the producer failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(temp.empty());
  EXPECT_FALSE(file_exists(temp));
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
}

TEST(FileIoAtomicFile, ConcurrentWritersOfOnePathUseTheirOwnTempFiles) {
  TempDir dir;
  AtomicFile a(dir.file("f"));
  AtomicFile b(dir.file("f"));
  EXPECT_NE(a.temp_path(), b.temp_path());
  a.write("a", 1);
  b.write("b", 1);
  a.commit();
  b.commit();
  EXPECT_EQ(read_file(dir.file("f")), "b");  // the last rename wins, whole
  EXPECT_EQ(list_dir(dir.path()), std::vector<std::string>{"f"});
}

TEST(FileIoMappedFile, MapsTheWholeFileAndAnEmptyOneAsNothing) {
  TempDir dir;
  std::string content(100000, 'x');
  content[0] = 'a';
  content[99999] = 'z';
  write_file(dir.file("f"), content);
  const MappedFile map(dir.file("f"));
  ASSERT_EQ(map.size(), content.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(map.data()), map.size()), content);
  EXPECT_EQ(map.path(), dir.file("f"));

  write_file(dir.file("empty"), "");
  const MappedFile empty(dir.file("empty"));
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.data(), nullptr);

  const FileError e = file_error_of([&] { MappedFile missing(dir.file("missing")); });
  EXPECT_EQ(e.call(), "open");
  EXPECT_EQ(std::string(e.what()), message("cannot open", dir.file("missing"), ENOENT));
}

TEST(FileIoPaths, JoinAndParent) {
  EXPECT_EQ(join_path("a", "b"), "a/b");
  EXPECT_EQ(join_path("a/", "b"), "a/b");
  EXPECT_EQ(join_path("", "b"), "b");
  EXPECT_EQ(join_path("/", "b"), "/b");
  EXPECT_EQ(parent_dir("a/b/c"), "a/b");
  EXPECT_EQ(parent_dir("c"), ".");
  EXPECT_EQ(parent_dir("/c"), "/");
  EXPECT_EQ(parent_dir("/a/c"), "/a");
}

TEST(FileIoStatus, KindsFollowSymlinksUnlessAsked) {
  TempDir dir;
  write_file(dir.file("f"), "12345");
  make_dirs(dir.file("d"));
  ASSERT_EQ(::symlink("f", dir.file("link").c_str()), 0);
  ASSERT_EQ(::symlink("nowhere", dir.file("dangling").c_str()), 0);

  EXPECT_TRUE(file_exists(dir.file("f")));
  EXPECT_TRUE(file_exists(dir.file("d")));
  EXPECT_TRUE(file_exists("/dev/null"));
  EXPECT_FALSE(file_exists(dir.file("missing")));
  EXPECT_FALSE(file_exists(dir.file("dangling")));
  EXPECT_TRUE(is_regular_file(dir.file("f")));
  EXPECT_TRUE(is_regular_file(dir.file("link")));
  EXPECT_FALSE(is_regular_file(dir.file("d")));
  EXPECT_FALSE(is_regular_file("/dev/null"));
  EXPECT_TRUE(is_directory(dir.file("d")));
  EXPECT_FALSE(is_directory(dir.file("f")));
  EXPECT_FALSE(is_directory(dir.file("missing")));

  EXPECT_EQ(file_status(dir.file("f")).kind, FileKind::regular);
  EXPECT_EQ(file_status(dir.file("f")).size, 5);
  EXPECT_EQ(file_status(dir.file("d")).kind, FileKind::directory);
  EXPECT_EQ(file_status(dir.file("link")).kind, FileKind::regular);
  EXPECT_EQ(symlink_status(dir.file("link")).kind, FileKind::symlink);
  EXPECT_EQ(symlink_status(dir.file("f")).kind, FileKind::regular);
  EXPECT_EQ(file_status("/dev/null").kind, FileKind::other);

  const FileError e = file_error_of([&] { file_status(dir.file("dangling")); });
  EXPECT_EQ(e.call(), "stat");
  EXPECT_EQ(std::string(e.what()), message("cannot stat", dir.file("dangling"), ENOENT));
  EXPECT_EQ(file_error_of([&] { symlink_status(dir.file("missing")); }).call(), "lstat");
}

TEST(FileIoStatus, MtimeIsInNanosecondsAndChangesWhenTheFileIsRewritten) {
  TempDir dir;
  const std::string path = dir.file("f");
  write_file(path, "first");
  // A known time, to the nanosecond: 2001-09-09 01:46:40.123456789 UTC.
  const struct timespec times[2] = {{1000000000, 123456789}, {1000000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  const FileStatus before = file_status(path);
  EXPECT_EQ(before.mtime_ns, 1000000000123456789LL);
  EXPECT_EQ(before.size, 5);

  write_file_atomic(path, "second!", 7);
  const FileStatus after = file_status(path);
  EXPECT_GT(after.mtime_ns, before.mtime_ns);  // now, long after 2001
  EXPECT_EQ(after.size, 7);
}

TEST(FileIoFolders, ListDirIsSortedAndSkipsDotEntries) {
  TempDir dir;
  write_file(dir.file("b"), "");
  write_file(dir.file(".hidden"), "");
  write_file(dir.file("B"), "");
  make_dirs(dir.file("a"));
  write_file(dir.file("a/inner"), "");
  EXPECT_EQ(list_dir(dir.path()), (std::vector<std::string>{".hidden", "B", "a", "b"}));
  EXPECT_EQ(list_dir(dir.file("a")), std::vector<std::string>{"inner"});

  const FileError missing = file_error_of([&] { list_dir(dir.file("missing")); });
  EXPECT_EQ(missing.call(), "opendir");
  EXPECT_EQ(std::string(missing.what()), message("cannot list", dir.file("missing"), ENOENT));
  EXPECT_EQ(file_error_of([&] { list_dir(dir.file("b")); }).error_number(), ENOTDIR);
}

TEST(FileIoFolders, MakeDirsMakesEveryLevelAndNamesTheOneItCannotMake) {
  TempDir dir;
  make_dirs(dir.file("x/y/z"));
  EXPECT_TRUE(is_directory(dir.file("x/y/z")));
  make_dirs(dir.file("x/y/z"));  // already there
  make_dirs(dir.file("x/y/w/"));
  EXPECT_TRUE(is_directory(dir.file("x/y/w")));
  make_dirs("");

  write_file(dir.file("x/file"), "");
  const FileError e = file_error_of([&] { make_dirs(dir.file("x/file/deeper/still")); });
  EXPECT_EQ(e.call(), "mkdir");
  EXPECT_EQ(e.path(), dir.file("x/file"));
  EXPECT_EQ(e.error_number(), ENOTDIR);
  EXPECT_EQ(std::string(e.what()), message("cannot create the folder", dir.file("x/file"), ENOTDIR));
  EXPECT_EQ(file_error_of([&] { make_dirs(dir.file("x/file")); }).error_number(), ENOTDIR);
}

TEST(FileIoFolders, RemoveFileAndFsyncDir) {
  TempDir dir;
  write_file(dir.file("f"), "x");
  remove_file(dir.file("f"));
  EXPECT_FALSE(file_exists(dir.file("f")));
  remove_file(dir.file("f"));  // gone already: fine
  make_dirs(dir.file("d"));
  const FileError e = file_error_of([&] { remove_file(dir.file("d")); });
  EXPECT_EQ(e.call(), "unlink");
  EXPECT_TRUE(is_directory(dir.file("d")));

  fsync_dir(dir.path());
  const FileError missing = file_error_of([&] { fsync_dir(dir.file("missing")); });
  EXPECT_EQ(missing.call(), "open");
  EXPECT_EQ(missing.path(), dir.file("missing"));
}

}  // namespace
}  // namespace mpitune
