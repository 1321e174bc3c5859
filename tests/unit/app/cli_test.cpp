// The mpitune executable as a user meets it: bad input gives one line naming the field, exit
// code 2 on every rank, no hang (ctest's timeout) and no result file. Runs mpirun itself.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/cli_support.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::Outcome;
using testing::run_shell;

Outcome mpitune_run(int np, const std::string& args) {
  return run_shell(testing::mpirun(np) + MPITUNE_EXE + " run " + args);
}

// The lines mpitune itself printed (mpirun adds its own notes about the exit code).
std::vector<std::string> mpitune_lines(const std::string& out) { return testing::lines_starting(out, "mpitune:"); }

class CliErrors : public ::testing::Test {
 protected:
  testing::TempDir dir{"mpitune-cli"};
  std::string config;
  std::string out_file;

  void SetUp() override {
    config = dir.file("c.ini");
    out_file = dir.file("out.h5");
    testing::write_file(config, R"(
[experiment]
name = cli
max_trials = 2
trainable = synthetic
[space]
x = uniform(0, 1)
[scheduler]
type = fifo
max_t = 3
)");
  }

  // Expects exit code 2, exactly one mpitune line that names `field`, and no result file.
  void expect_rejected(int np, const std::string& args, const std::string& field) {
    const Outcome o = mpitune_run(np, "--config " + config + " --set experiment.output=" + out_file + " " + args);
    EXPECT_EQ(o.code, 2) << o.out;
    const auto lines = mpitune_lines(o.out);
    ASSERT_EQ(lines.size(), 1u) << o.out;
    EXPECT_NE(lines[0].find("mpitune: error: " + field), std::string::npos) << lines[0];
    EXPECT_FALSE(std::filesystem::exists(out_file));
  }
};

TEST_F(CliErrors, UnknownKey) { expect_rejected(3, "--set train.lrr=0.1", "train.lrr: unknown key"); }

TEST_F(CliErrors, InvertedRange) { expect_rejected(3, "--set space.x='uniform(1, 0)'", "space.x"); }

TEST_F(CliErrors, EmptyChoice) { expect_rejected(3, "--set space.x='choice()'", "space.x"); }

TEST_F(CliErrors, WorldSizeMismatch) {
  expect_rejected(4, "--set experiment.group_size=2", "experiment.group_size");
}

TEST_F(CliErrors, MissingCorpus) {
  testing::write_file(config, "[experiment]\nname = cli\n[space]\nlr = loguniform(1e-4, 1e-2)\n");
  expect_rejected(2, "--set data.corpus=/nonexistent/corpus", "data.corpus");
}

TEST_F(CliErrors, SpaceNamesAKeyTheGptTrainableDoesNotHave) {
  testing::write_file(config, "[experiment]\nname = cli\n[space]\nmomentum = uniform(0, 1)\n");
  expect_rejected(2, "", "space.momentum");
}

TEST_F(CliErrors, Fp16OnCpu) {
  testing::write_file(config, "[experiment]\nname = cli\n[space]\nlr = loguniform(1e-4, 1e-2)\n");
  expect_rejected(2, "--set train.precision=fp16", "train.precision");
}

TEST_F(CliErrors, UnwritableOutput) {
  testing::write_file(dir.file("a-file"), "not a folder");
  const Outcome o = mpitune_run(3, "--config " + config + " --set experiment.output=" + dir.file("a-file") + "/out.h5");
  EXPECT_EQ(o.code, 2) << o.out;
  const auto lines = mpitune_lines(o.out);
  ASSERT_EQ(lines.size(), 1u) << o.out;
  EXPECT_NE(lines[0].find("experiment.output"), std::string::npos) << lines[0];
}

TEST_F(CliErrors, ExistingOutputWithoutOverwrite) {
  testing::write_file(out_file, "old results");
  const Outcome o = mpitune_run(3, "--config " + config + " --set experiment.output=" + out_file);
  EXPECT_EQ(o.code, 2) << o.out;
  EXPECT_NE(o.out.find("experiment.overwrite"), std::string::npos) << o.out;
  EXPECT_EQ(testing::read_file(out_file), "old results");  // untouched
}

TEST_F(CliErrors, MissingConfigFile) {
  const Outcome o = mpitune_run(3, "--config " + dir.file("nope.ini"));
  EXPECT_EQ(o.code, 2) << o.out;
  const auto lines = mpitune_lines(o.out);
  ASSERT_EQ(lines.size(), 1u) << o.out;
  EXPECT_NE(lines[0].find("--config"), std::string::npos) << lines[0];
}

TEST_F(CliErrors, BadFlag) {
  const Outcome o = mpitune_run(3, "--bogus");
  EXPECT_EQ(o.code, 2) << o.out;
  EXPECT_EQ(mpitune_lines(o.out).size(), 1u) << o.out;
}

TEST(Cli, HelpAndVersionAndUnknownCommand) {
  EXPECT_EQ(run_shell(std::string(MPITUNE_EXE) + " --help").code, 0);
  const Outcome run_help = run_shell(std::string(MPITUNE_EXE) + " run --help");
  EXPECT_EQ(run_help.code, 0);
  EXPECT_NE(run_help.out.find("--config"), std::string::npos);
  EXPECT_EQ(run_shell(std::string(MPITUNE_EXE) + " report --help").code, 0);
  const Outcome v = run_shell(std::string(MPITUNE_EXE) + " --version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("mpitune "), std::string::npos);
  EXPECT_EQ(run_shell(std::string(MPITUNE_EXE) + " frobnicate").code, 2);
}

TEST(Cli, ReportRejectsAFileThatIsNotAResultFile) {
  testing::TempDir dir("mpitune-cli");
  testing::write_file(dir.file("x.h5"), "not hdf5");
  const Outcome o = run_shell(std::string(MPITUNE_EXE) + " report " + dir.file("x.h5"));
  EXPECT_EQ(o.code, 2) << o.out;
  EXPECT_EQ(mpitune_lines(o.out).size(), 1u) << o.out;
}

TEST(Cli, EveryExampleConfigValidates) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(MPITUNE_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() != ".ini") continue;
    const Outcome o = run_shell(std::string(MPITUNE_EXE) + " validate --np 5 --config " + e.path().string());
    EXPECT_EQ(o.code, 0) << e.path() << ": " << o.out;
    ++n;
  }
  EXPECT_GE(n, 6);
}

TEST(Cli, ValidateAcceptsTheDefaultConfigAndChecksTheWorldSize) {
  const Outcome ok = run_shell(std::string(MPITUNE_EXE) + " validate --np 5");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("config ok"), std::string::npos);
  const Outcome bad = run_shell(std::string(MPITUNE_EXE) + " validate --np 5 --set experiment.group_size=3");
  EXPECT_EQ(bad.code, 2) << bad.out;
}

}  // namespace
}  // namespace mpitune
