// The run's periodic status (runtime/status_display.hpp): a fixed number of lines of at most
// kStatusLineWidth characters however many groups run, per-group lines only when verbose.
// (src/runtime/status_display.cpp is compiled into test_core: it needs nothing but core.)
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "mpitune/runtime/status_display.hpp"

namespace mpitune {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// 64 groups, 60 of them busy (groups 63 down to 4, so the verbose lines must sort them), an
// hour in: 10 completed + 5 stopped + 1 failed = 16 trials ended, 16.0 per hour.
StatusSnapshot busy_job() {
  StatusSnapshot s;
  s.elapsed_s = 3600;
  s.device_minutes = 3900;
  s.created = 76;
  s.running = 60;
  s.completed = 10;
  s.stopped = 5;
  s.failed = 1;
  s.best_trial = 17;
  s.best_metric = 2.3145678;
  for (int i = 0; i < 12; ++i) s.best_hparams.set("hyperparameter_number_" + std::to_string(i), 0.000123456789 * i);
  for (int g = 63; g >= 4; --g) s.busy.push_back({g, 1000 + g, 5 * g});
  return s;
}

TEST(StatusDisplay, SixtyFourGroupsStayAFewShortLines) {
  const std::string name(80, 'x');  // a very long experiment name
  const std::vector<std::string> l = lines_of(format_status(name, "eval_loss", busy_job(), 243, false, 64));
  ASSERT_EQ(l.size(), 4u);
  for (const auto& line : l) EXPECT_LE(line.size(), kStatusLineWidth) << line;
  EXPECT_NE(l[0].find("1h00m00s elapsed | 3900.0 device-min"), std::string::npos) << l[0];
  EXPECT_NE(l[1].find("76: 60 running, 0 paused, 10 completed, 5 stopped, 1 failed"), std::string::npos) << l[1];
  EXPECT_NE(l[2].find("eval_loss 2.31457 trial 17"), std::string::npos) << l[2];
  EXPECT_NE(l[3].find("64: 60 busy, 4 idle | 16.0 trials/h ended"), std::string::npos) << l[3];
}

TEST(StatusDisplay, VerboseAddsOneLinePerBusyGroupInGroupOrder) {
  const std::vector<std::string> l = lines_of(format_status("asha", "eval_loss", busy_job(), 243, true, 64));
  ASSERT_EQ(l.size(), 4u + 60);
  for (size_t i = 4; i < l.size(); ++i) {
    const int g = static_cast<int>(i) - 4 + 4;  // groups 4 .. 63
    const std::string expected = "   g" + std::to_string(g);
    EXPECT_EQ(l[i].rfind(expected, 0), 0u) << l[i];
    EXPECT_NE(l[i].find("trial " + std::to_string(1000 + g) + "  step " + std::to_string(5 * g) + "/243"),
              std::string::npos) << l[i];
    EXPECT_LE(l[i].size(), kStatusLineWidth);
  }
}

TEST(StatusDisplay, NoResultYetAndUnknownGroupCount) {
  StatusSnapshot s;
  s.elapsed_s = 12.5;
  s.created = 2;
  s.running = 2;
  s.busy = {{0, 0, 3}, {1, 1, 4}};
  const std::vector<std::string> l = lines_of(format_status("fresh", "eval_loss", s, 100));
  ASSERT_EQ(l.size(), 4u);
  EXPECT_NE(l[0].find("12.5s elapsed"), std::string::npos) << l[0];
  EXPECT_NE(l[2].find("eval_loss: no result yet"), std::string::npos) << l[2];
  EXPECT_NE(l[3].find("2 busy | 0.0 trials/h"), std::string::npos) << l[3];
  EXPECT_EQ(l[3].find("idle"), std::string::npos) << l[3];
}

}  // namespace
}  // namespace mpitune
