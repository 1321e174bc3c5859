// The tokenization progress line: its text, when it appears, and terminal vs log output, on a
// fake clock.
#include <gtest/gtest.h>

#include "mpitune/data/progress.hpp"

namespace mpitune {
namespace {

TEST(ProgressText, Lines) {
  EXPECT_EQ(progress_line("/c", 1203, 2900, 800000, 3.7),
            "mpitune: tokenizing /c: 41% (1203/2900 documents, 0.8M tokens, 3 s)");
  EXPECT_EQ(final_progress_line("/c", 15216, 2600000, 0.74), "mpitune: tokenized /c: 15216 documents, 2.6M tokens in 0.7 s");
  EXPECT_EQ(format_token_count(950), "950");
  EXPECT_EQ(format_token_count(41230), "41230");
  EXPECT_EQ(format_token_count(1250000000), "1.2B");
  EXPECT_EQ(progress_line("/c", 0, 0, 0, 0), "mpitune: tokenizing /c: 100% (0/0 documents, 0 tokens, 0 s)");
}

struct Recorder {
  double now = 0;
  std::vector<std::string> out;
  ProgressMeter meter(bool terminal, bool enabled = true) {
    return ProgressMeter("/c", 100, enabled, terminal, [this]() { return now; },
                         [this](const std::string& s) { out.push_back(s); });
  }
};

TEST(ProgressMeter, QuietForShortWorkThenEverySecondOnATerminal) {
  Recorder r;
  r.now = 100;
  ProgressMeter m = r.meter(true);
  r.now = 101.9;
  m.update(10, 1000);
  EXPECT_TRUE(r.out.empty());  // under 2 s: nothing
  r.now = 102.1;
  m.update(20, 2000);
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_EQ(r.out[0], "\rmpitune: tokenizing /c: 20% (20/100 documents, 2000 tokens, 2 s)");
  r.now = 102.9;
  m.update(30, 3000);
  EXPECT_EQ(r.out.size(), 1u);  // within the second
  r.now = 103.2;
  m.update(40, 4000);
  ASSERT_EQ(r.out.size(), 2u);
  EXPECT_EQ(r.out[1].front(), '\r');
  r.now = 104;
  m.finish(100, 10000);
  ASSERT_EQ(r.out.size(), 3u);
  EXPECT_EQ(r.out[2].substr(0, 1), "\r");
  EXPECT_EQ(r.out[2].back(), '\n');
  EXPECT_NE(r.out[2].find("tokenized /c: 100 documents, 10000 tokens in 4.0 s"), std::string::npos);
  // The final line is padded to blank the longer progress line it replaces.
  EXPECT_GE(r.out[2].size(), r.out[1].size() + 1);
}

TEST(ProgressMeter, PlainLinesEveryTenSecondsInALog) {
  Recorder r;
  ProgressMeter m = r.meter(false);
  r.now = 2.5;
  m.update(1, 10);
  r.now = 9;
  m.update(2, 20);
  r.now = 12.6;
  m.update(3, 30);
  ASSERT_EQ(r.out.size(), 2u);
  EXPECT_EQ(r.out[0], "mpitune: tokenizing /c: 1% (1/100 documents, 10 tokens, 2 s)\n");
  EXPECT_EQ(r.out[1], "mpitune: tokenizing /c: 3% (3/100 documents, 30 tokens, 12 s)\n");
  m.finish(100, 99);
  ASSERT_EQ(r.out.size(), 3u);
  EXPECT_EQ(r.out[2], "mpitune: tokenized /c: 100 documents, 99 tokens in 12.6 s\n");
}

TEST(ProgressMeter, FinalLineAloneForFastWorkAndNothingWhenDisabled) {
  Recorder r;
  ProgressMeter fast = r.meter(true);
  r.now = 0.3;
  fast.update(100, 5);
  fast.finish(100, 5);
  ASSERT_EQ(r.out.size(), 1u);
  EXPECT_EQ(r.out[0], "mpitune: tokenized /c: 100 documents, 5 tokens in 0.3 s\n");  // no '\r': nothing to replace

  Recorder q;
  ProgressMeter off = q.meter(true, false);
  q.now = 50;
  off.update(1, 1);
  off.finish(1, 1);
  EXPECT_TRUE(q.out.empty());
}

}  // namespace
}  // namespace mpitune
