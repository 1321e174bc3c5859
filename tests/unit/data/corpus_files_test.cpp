// Which files of a corpus folder are read: recursive, sorted, no hidden files, no symlinks, no
// *.dat, data.extensions and data.exclude.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/data/cache_key.hpp"
#include "mpitune/data/documents.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using Files = std::vector<std::string>;

void make_dir(const std::string& path) { ASSERT_EQ(::mkdir(path.c_str(), 0755), 0) << path; }
void make_link(const std::string& target, const std::string& link) {
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << link;
}

// A folder like /usr/share/games/fortunes, with a sub-folder and the things that must be skipped.
class CorpusFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    write("art", "art\n");
    write("art.dat", "index");
    make_link("art", root("art.u8"));
    write("zippy", "z\n");
    make_dir(root("off"));
    write("off/b.txt", "b\n");
    write("off/a.md", "a\n");
    make_dir(root("off/deeper"));
    write("off/deeper/c.txt", "c\n");
    write("a.txt", "top\n");
    write(".hidden.txt", "no\n");
    make_dir(root(".git"));
    write(".git/config.txt", "no\n");
    make_dir(root("elsewhere"));
    write("elsewhere/x.txt", "x\n");
    make_link(root("elsewhere"), root("linked-folder"));
  }
  std::string root(const std::string& rel = "") const { return rel.empty() ? dir_.path() : dir_.file(rel); }
  void write(const std::string& rel, const std::string& text) { testing::write_file(root(rel), text); }

  testing::TempDir dir_;
};

TEST_F(CorpusFolder, WalksRecursivelyInRelativePathOrderSkippingLinksHiddenAndDat) {
  const Files files = list_corpus_files(root(), "", "", "data.corpus");
  // Byte order of the relative path: "a.txt" < "art" < "elsewhere/..." < "off/a.md" < "off/b.txt"
  // < "off/deeper/..." < "zippy"; "art.u8" and "linked-folder" are symlinks, ".git" is hidden.
  EXPECT_EQ(files, (Files{root("a.txt"), root("art"), root("elsewhere/x.txt"), root("off/a.md"), root("off/b.txt"),
                          root("off/deeper/c.txt"), root("zippy")}));
}

TEST_F(CorpusFolder, TrailingSlashGivesTheSamePaths) {
  EXPECT_EQ(list_corpus_files(root() + "/", "", "", "data.corpus"), list_corpus_files(root(), "", "", "data.corpus"));
}

TEST_F(CorpusFolder, ExtensionsKeepOnlyListedOnes) {
  EXPECT_EQ(list_corpus_files(root(), "txt", "", "data.corpus"),
            (Files{root("a.txt"), root("elsewhere/x.txt"), root("off/b.txt"), root("off/deeper/c.txt")}));
  EXPECT_EQ(list_corpus_files(root(), ".MD, none", "", "data.corpus"), (Files{root("art"), root("off/a.md"), root("zippy")}));
  // Listing dat explicitly reads the index files.
  EXPECT_EQ(list_corpus_files(root(), "dat", "", "data.corpus"), (Files{root("art.dat")}));
  try {
    list_corpus_files(root(), "jsonl", "", "data.val_corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.val_corpus");
    EXPECT_NE(std::string(e.what()).find("data.extensions"), std::string::npos) << e.what();
  }
}

TEST_F(CorpusFolder, ExcludeDropsListedFilesAndFolders) {
  EXPECT_EQ(list_corpus_files(root(), "", "off, zippy", "data.corpus"),
            (Files{root("a.txt"), root("art"), root("elsewhere/x.txt")}));
  // "./" in front, "/" behind and empty entries are ignored; a nested folder goes alone.
  EXPECT_EQ(list_corpus_files(root(), "", " ./off/deeper/ ,, ", "data.corpus"),
            (Files{root("a.txt"), root("art"), root("elsewhere/x.txt"), root("off/a.md"), root("off/b.txt"),
                   root("zippy")}));
  // With data.extensions: only the files the walk reads count.
  EXPECT_EQ(list_corpus_files(root(), "txt", "elsewhere", "data.corpus"),
            (Files{root("a.txt"), root("off/b.txt"), root("off/deeper/c.txt")}));
}

// The ConfigError of list_corpus_files(root, "", exclude, "data.corpus"), or "" when none.
std::string exclude_error(const std::string& root, const std::string& exclude) {
  try {
    list_corpus_files(root, "", exclude, "data.corpus");
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.exclude") << e.what();
    return e.what();
  }
  return "";
}

TEST_F(CorpusFolder, ExcludeEntriesThatMatchNothingAreErrorsNamingThem) {
  // Whole path components: "of" is not a prefix of the folder "off", "ar" not of "art".
  EXPECT_NE(exclude_error(root(), "off, of").find("'of' matches no file"), std::string::npos);
  EXPECT_NE(exclude_error(root(), "ar").find("'ar' matches no file"), std::string::npos);
  EXPECT_NE(exclude_error(root(), "nothing/here").find("'nothing/here'"), std::string::npos);
  // Things the walk never reads match nothing either: a symlink, a hidden folder, an index file.
  EXPECT_NE(exclude_error(root(), "art.u8").find("'art.u8' matches no file"), std::string::npos);
  EXPECT_NE(exclude_error(root(), ".git").find("'.git' matches no file"), std::string::npos);
  EXPECT_NE(exclude_error(root(), "art.dat").find("'art.dat' matches no file"), std::string::npos);
  EXPECT_NE(exclude_error(root(), root("off")).find("absolute"), std::string::npos);
  EXPECT_NE(exclude_error(root(), "off/../zippy").find(".."), std::string::npos);
  EXPECT_NE(exclude_error(root(), "a.txt, art, elsewhere, off, zippy").find("excludes every file"), std::string::npos);
  EXPECT_NE(exclude_error(root("zippy"), "zippy").find("is a file"), std::string::npos);
}

TEST_F(CorpusFolder, ExcludeAppliesToDataCorpusOnly) {
  DataOptions d;
  d.exclude = "off";
  EXPECT_EQ(corpus_exclude(d, "data.corpus"), "off");
  EXPECT_EQ(corpus_exclude(d, "data.val_corpus"), "");
  EXPECT_EQ(corpus_exclude(d, "data.test_corpus"), "");
  // Each file here is one document: 7 files read, 3 of them under off/.
  EXPECT_EQ(read_documents(root(), d, "data.corpus").size(), 4u);
  EXPECT_EQ(read_documents(root(), d, "data.val_corpus").size(), 7u);
}

TEST(CorpusFiles, ExcludeIsPartOfTheTokenCacheKey) {
  const auto tok = make_byte_tokenizer();
  const std::vector<CorpusFileStamp> files = {{"data.corpus", "/c/a", 10, 1}};
  DataOptions d;
  const std::string without = token_cache_key(d, *tok, files);
  d.exclude = "computers";
  const std::string with = token_cache_key(d, *tok, files);
  EXPECT_NE(with, without);
  d.exclude = "people";
  EXPECT_NE(token_cache_key(d, *tok, files), with);
}

TEST(ExtensionSelected, Rules) {
  EXPECT_TRUE(extension_selected("fortunes", ""));
  EXPECT_FALSE(extension_selected("fortunes.dat", ""));
  EXPECT_TRUE(extension_selected("a.TXT", "txt"));
  EXPECT_TRUE(extension_selected("a.txt", " .txt , md"));
  EXPECT_FALSE(extension_selected("a.txt.bak", "txt"));
  EXPECT_TRUE(extension_selected("a.tar.gz", "tar.gz"));
  EXPECT_TRUE(extension_selected("README", "md, none"));
  EXPECT_TRUE(extension_selected("README", "md,"));  // an empty entry is "none"
  EXPECT_FALSE(extension_selected("README", "md"));
  EXPECT_FALSE(extension_selected("notes.md", "none"));
}

TEST(CorpusFiles, AFileIsReadWhateverItsExtension) {
  testing::TempDir dir;
  testing::write_file(dir.file("corpus.dat"), "x\n");
  EXPECT_EQ(list_corpus_files(dir.file("corpus.dat"), "txt", "", "data.corpus"), Files{dir.file("corpus.dat")});
  // A symlink given as the corpus itself is followed.
  make_link(dir.file("corpus.dat"), dir.file("link"));
  EXPECT_EQ(list_corpus_files(dir.file("link"), "", "", "data.corpus"), Files{dir.file("link")});
}

TEST(CorpusFiles, MissingOrEmptyPathsNameTheKey) {
  testing::TempDir dir;
  try {
    list_corpus_files(dir.file("nope"), "", "", "data.test_corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.test_corpus");
    EXPECT_EQ(std::string(e.what()), "data.test_corpus: '" + dir.file("nope") + "' does not exist (" +
                                         std::strerror(ENOENT) + "); point it at a text file, a JSONL file or a folder of them");
  }
  make_dir(dir.file("empty"));
  testing::write_file(dir.file("empty/.hidden"), "x");
  try {
    list_corpus_files(dir.file("empty"), "", "", "data.corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.corpus");
    EXPECT_NE(std::string(e.what()).find("no file to read"), std::string::npos) << e.what();
  }
  EXPECT_THROW(list_corpus_files("", "", "", "data.corpus"), ConfigError);
}

TEST(CorpusFiles, AFileThatCannotBeReadNamesTheKeyAndTheFile) {
  testing::TempDir dir;
  DataOptions d;
  const std::string gone = dir.file("gone.txt");
  try {
    read_documents(std::vector<std::string>{gone}, d, "data.val_corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.val_corpus");
    EXPECT_EQ(std::string(e.what()),
              "data.val_corpus: cannot read '" + gone + "': " + std::strerror(ENOENT) + "; check its permissions");
  }
  // Opens, then fails to read: /proc/self/mem at offset 0 is EIO.
  make_link("/proc/self/mem", dir.file("mem"));
  try {
    read_documents(std::vector<std::string>{dir.file("mem")}, d, "data.corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "data.corpus: cannot read '" + dir.file("mem") + "': " + std::strerror(EIO) + "; check its permissions");
  }
}

TEST(CorpusFiles, SymlinkedTextsAreNotReadTwice) {
  testing::TempDir dir;
  testing::write_file(dir.file("cookie"), "a\n%\nb\n");
  make_link("cookie", dir.file("cookie.u8"));
  DataOptions d;
  d.document_separator = "%";
  EXPECT_EQ(read_documents(dir.path(), d, "data.corpus").size(), 2u);
}

}  // namespace
}  // namespace mpitune
