// `mpitune tokenize`: ids on one line, --json, --file, and one-line errors with exit code 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "mpitune/runtime/tokenize_command.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

struct Result {
  int rc;
  std::string out, err;
};

Result run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int rc = tokenize_command(args, out, err);
  return {rc, out.str(), err.str()};
}

TEST(TokenizeCommand, PrintsIds) {
  const Result r = run({"--tokenizer", "bytes", "--text", "Hi!"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "72 105 33\n");
  EXPECT_EQ(r.err, "");
}

TEST(TokenizeCommand, Json) {
  const Result r = run({"--tokenizer", "bytes", "--text", "Hi", "--json"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "{\"tokenizer\": \"bytes, 256 ids\", \"ids\": [72, 105], \"count\": 2}\n");
}

TEST(TokenizeCommand, File) {
  testing::TempDir dir;
  testing::write_file(dir.file("t.txt"), "a\nb");
  const Result r = run({"--tokenizer", "bytes", "--file", dir.file("t.txt")});
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.out, "97 10 98\n");
  EXPECT_EQ(run({"--tokenizer", "bytes", "--text", ""}).out, "\n");
}

TEST(TokenizeCommand, ErrorsAreOneLineAndExitCode2) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--text", "x"},                                            // no tokenizer
           {"--tokenizer", "bytes"},                                   // no text
           {"--tokenizer", "bytes", "--text", "x", "--file", "y"},     // both
           {"--tokenizer", "/no/such/folder", "--text", "x"},         // bad folder
           {"--tokenizer", "bytes", "--file", "/no/such/file"},       // bad file
           {"--tokenizer", "bytes", "--text", "x", "--bogus"}}) {     // unknown flag
    const Result r = run(args);
    EXPECT_EQ(r.rc, 2) << args.back();
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("mpitune: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_NE(run({"--tokenizer", "/no/such/folder", "--text", "x"}).err.find("data.tokenizer: '/no/such/folder' does not exist"),
            std::string::npos);
}

TEST(TokenizeCommand, Help) {
  const Result r = run({"--help"});
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("mpitune tokenize --tokenizer"), std::string::npos);
}

}  // namespace
}  // namespace mpitune
