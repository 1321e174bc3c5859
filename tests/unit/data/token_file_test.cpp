// The token file: written atomically, read back exactly through the mapping, and every kind of
// damage (missing, truncated, other version, bad offsets, trailing bytes) an InfraError.
#include <dirent.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/data/token_file.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

std::vector<std::string> folder_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (const dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.push_back(e->d_name);
  ::closedir(d);
  return out;
}

class TokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    plain_a_.ids = {5, 6, 7};
    plain_b_.ids = {299};
    prompted_.ids = {298, 1, 2, 3, 299};
    prompted_.unscored = 3;  // BOS and a two-token prompt
    contents_.vocab_size = 300;
    contents_.fingerprint = "fp-abc";  // 6 bytes: the header needs padding
    contents_.splits[0] = {&plain_a_, &plain_b_};
    contents_.splits[1] = {&prompted_, &plain_a_};
    // test: empty
    path_ = dir_.file("tokens.bin");
  }
  std::vector<int32_t> ids(const TokenSplit& s) const { return {s.ids, s.ids + s.size}; }

  testing::TempDir dir_;
  TokenizedDocument plain_a_, plain_b_, prompted_;
  TokenFileContents contents_;
  std::string path_;
};

TEST_F(TokenFile, RoundTripsIdsMasksAndOffsets) {
  write_token_file(path_, contents_);
  const auto corpus = TokenCorpus::open(path_);
  EXPECT_EQ(corpus->vocab_size(), 300);
  EXPECT_EQ(corpus->tokenizer_fingerprint(), "fp-abc");
  EXPECT_EQ(corpus->path(), path_);

  const TokenSplit& train = corpus->train();
  EXPECT_EQ(train.size, 4);
  EXPECT_EQ(ids(train), (std::vector<int32_t>{5, 6, 7, 299}));
  EXPECT_EQ(train.loss_mask, nullptr);  // no prompted document: every token counts
  ASSERT_EQ(train.documents, 2);
  EXPECT_EQ(std::vector<int64_t>(train.doc_begin, train.doc_begin + 3), (std::vector<int64_t>{0, 3, 4}));

  const TokenSplit& val = corpus->validation();
  EXPECT_EQ(ids(val), (std::vector<int32_t>{298, 1, 2, 3, 299, 5, 6, 7}));
  ASSERT_NE(val.loss_mask, nullptr);
  EXPECT_EQ(std::vector<uint8_t>(val.loss_mask, val.loss_mask + val.size), (std::vector<uint8_t>{0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(std::vector<int64_t>(val.doc_begin, val.doc_begin + 3), (std::vector<int64_t>{0, 5, 8}));

  const TokenSplit& test = corpus->test();
  EXPECT_EQ(test.size, 0);
  EXPECT_EQ(test.documents, 0);
  EXPECT_EQ(test.doc_begin[0], 0);
  // The arrays are read in place: 8-byte aligned in the page-aligned mapping.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(val.ids) % 8, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(val.doc_begin) % 8, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(train.doc_begin) % 8, 0u);
}

TEST_F(TokenFile, LayoutMatchesTheHeaderComment) {
  write_token_file(path_, contents_);
  const std::string bytes = testing::read_file(path_);
  auto i64_at = [&](size_t off) {
    int64_t v;
    std::memcpy(&v, bytes.data() + off, 8);
    return v;
  };
  EXPECT_EQ(bytes.substr(0, 8), "MPTTOKNS");
  uint32_t version;
  std::memcpy(&version, bytes.data() + 8, 4);
  EXPECT_EQ(version, kTokenFileVersion);
  EXPECT_EQ(i64_at(16), 300);
  EXPECT_EQ(i64_at(24), 6);
  EXPECT_EQ(bytes.substr(32, 6), "fp-abc");
  // train at 40: size 4, 2 documents, no mask, 16 bytes of ids, 3 offsets
  EXPECT_EQ(i64_at(40), 4);
  EXPECT_EQ(i64_at(48), 2);
  EXPECT_EQ(i64_at(56), 0);
  const size_t val_at = 64 + 16 + 24;
  EXPECT_EQ(i64_at(val_at), 8);
  EXPECT_EQ(i64_at(val_at + 16), 1);
  // validation: 32 bytes of ids, 8 of mask, 24 of offsets; then the empty test split
  const size_t test_at = val_at + 24 + 32 + 8 + 24;
  EXPECT_EQ(i64_at(test_at), 0);
  EXPECT_EQ(bytes.size(), test_at + 24 + 8);
}

TEST_F(TokenFile, LeavesNoTemporaryFileAndReplacesAnOldOne) {
  testing::write_file(path_, "old contents");
  write_token_file(path_, contents_);
  EXPECT_EQ(folder_entries(dir_.path()), std::vector<std::string>{"tokens.bin"});
  EXPECT_EQ(TokenCorpus::open(path_)->train().size, 4);
}

TEST_F(TokenFile, UnwritableFolderIsAnInfraErrorNamingTheFile) {
  try {
    write_token_file(dir_.file("missing/tokens.bin"), contents_);
    FAIL() << "no error";
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find("missing/tokens.bin"), std::string::npos) << e.what();
  }
}

void expect_infra_error(const std::string& path, const std::string& words) {
  try {
    TokenCorpus::open(path);
    FAIL() << "no error for " << words;
  } catch (const InfraError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(words), std::string::npos) << what;
  }
}

TEST_F(TokenFile, MissingOrEmptyFile) {
  expect_infra_error(dir_.file("none.bin"), "cannot open");
  testing::write_file(path_, "");
  expect_infra_error(path_, "truncated");
}

TEST_F(TokenFile, EveryTruncationIsDetected) {
  write_token_file(path_, contents_);
  const std::string whole = testing::read_file(path_);
  // One copy cut shorter and shorter in place, down to nothing.
  for (size_t len = whole.size(); len-- > 0;) {
    ASSERT_EQ(::truncate(path_.c_str(), static_cast<off_t>(len)), 0);
    EXPECT_THROW(TokenCorpus::open(path_), InfraError) << "truncated to " << len << " of " << whole.size();
  }
}

TEST_F(TokenFile, TrailingBytesMagicAndVersion) {
  write_token_file(path_, contents_);
  const std::string whole = testing::read_file(path_);
  testing::write_file(path_, whole + std::string(8, '\0'));
  expect_infra_error(path_, "past the end");

  std::string other = whole;
  other[0] = 'X';
  testing::write_file(path_, other);
  expect_infra_error(path_, "not a token file");

  other = whole;
  other[8] = static_cast<char>(kTokenFileVersion + 1);
  testing::write_file(path_, other);
  expect_infra_error(path_, "format version");
}

TEST_F(TokenFile, InconsistentSplitHeaderOrOffsets) {
  write_token_file(path_, contents_);
  const std::string whole = testing::read_file(path_);
  auto patched = [&](size_t off, int64_t v) {
    std::string b = whole;
    std::memcpy(&b[off], &v, 8);
    return b;
  };
  // train's mask flag 2
  testing::write_file(path_, patched(56, 2));
  expect_infra_error(path_, "header is invalid");
  // train's last document offset (at 64 + 16 + 16) not equal to its size
  testing::write_file(path_, patched(96, 3));
  expect_infra_error(path_, "do not span");
  // train's middle offset above the last: decreasing
  testing::write_file(path_, patched(88, 9));
  expect_infra_error(path_, "decrease");
  // a document count far past the file
  testing::write_file(path_, patched(48, int64_t{1} << 60));
  expect_infra_error(path_, "past the file");
  // a token count far past the file
  testing::write_file(path_, patched(40, int64_t{1} << 61));
  expect_infra_error(path_, "truncated");
}

}  // namespace
}  // namespace mpitune
