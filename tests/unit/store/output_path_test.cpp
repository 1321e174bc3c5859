// check_output_path: refuses what cannot or must not be written, and creates nothing itself.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace mpitune
