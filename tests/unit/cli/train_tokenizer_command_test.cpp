// `mpitune train-tokenizer`: the corpus read as [data] reads it (separator, data.exclude), the
// folder it writes (loadable, the size asked for), and one-line errors that name the flag.
#include <gtest/gtest.h>

#include <sstream>
#include <sys/stat.h>

#include "mpitune/runtime/train_tokenizer_command.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

struct Result {
  int code;
  std::string out, err;
};

Result run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = train_tokenizer_command(args, out, err);
  return {code, out.str(), err.str()};
}

// A corpus folder of two fortune files; "held-out" holds text that must not be learned.
class TrainTokenizerCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string kept, held;
    for (int i = 0; i < 40; ++i) {
      kept += "the cat sat on the mat number " + std::to_string(i) + "\n%\n";
      held += "zqzqzq vwvwvw\n%\n";
    }
    testing::write_file(dir_.file("kept"), kept);
    ASSERT_EQ(::mkdir(dir_.file("held-out").c_str(), 0755), 0);
    testing::write_file(dir_.file("held-out/text"), held);
  }
  testing::TempDir dir_;
};

TEST_F(TrainTokenizerCommand, WritesALoadableTokenizerWithoutTheExcludedText) {
  const std::string out = dir_.file("tok");
  const Result r = run({"--corpus", dir_.path(), "--exclude", "held-out", "--document-separator", "%", "--vocab-size",
                        "270", "--out", out});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("tokenizer: 270 ids"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from 40 documents"), std::string::npos) << r.out;
  const auto tok = load_tokenizer(out, "");
  EXPECT_EQ(tok->vocab_size(), 270);
  EXPECT_EQ(tok->eos_id(), 269);
  // "Ġthe" is learned (it occurs 40 times); the held-out words stay bytes.
  EXPECT_EQ(tok->encode(" the").size(), 1u);
  EXPECT_EQ(tok->encode("zqzqzq").size(), 6u);
  // The separator lines are not text: "%\n" is never a token of its own.
  EXPECT_EQ(tok->encode("%\n").size(), 2u);

  // Without --exclude the held-out text is learned.
  const Result all = run({"--corpus", dir_.path(), "--document-separator", "%", "--vocab-size", "280", "--out",
                          dir_.file("tok-all")});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_LT(load_tokenizer(dir_.file("tok-all"), "")->encode("zqzqzq").size(), 6u);
}

TEST_F(TrainTokenizerCommand, RunningOutOfPairsWarns) {
  const Result r = run({"--corpus", dir_.file("held-out/text"), "--document-separator", "%", "--vocab-size", "4096",
                        "--out", dir_.file("tok")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("warning: no pair of symbols occurs 2 times"), std::string::npos) << r.out;
}

TEST_F(TrainTokenizerCommand, ErrorsNameTheFlag) {
  Result r = run({"--corpus", dir_.path(), "--vocab-size", "300"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "mpitune: error: --out: is required; see mpitune train-tokenizer --help\n");
  r = run({"--corpus", dir_.path(), "--exclude", "nope", "--vocab-size", "300", "--out", dir_.file("t")});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("mpitune: error: --exclude: 'nope' matches no file read under", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("relative to --corpus"), std::string::npos) << r.err;
  r = run({"--corpus", dir_.file("missing"), "--vocab-size", "300", "--out", dir_.file("t")});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("mpitune: error: --corpus: '", 0), 0u) << r.err;
  r = run({"--corpus", dir_.path(), "--vocab-size", "100", "--out", dir_.file("t")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--vocab-size: 100 leaves no room"), std::string::npos) << r.err;
  r = run({"--corpus", dir_.path(), "--vocab-size", "lots", "--out", dir_.file("t")});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("mpitune: error: command line: ", 0), 0u) << r.err;
}

}  // namespace
}  // namespace mpitune
