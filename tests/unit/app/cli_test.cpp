// The mpitune executable as a user meets it: bad input gives one line naming the field, exit
// code 2 on every rank, no hang (ctest's timeout) and no result file. Runs mpirun itself.
#include <gtest/gtest.h>

#include "mpitune/core/config.hpp"

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

TEST_F(CliErrors, ConfigThatIsAFolderOrMissingIsOneLineForRunAndValidate) {
  const std::string missing = dir.file("nope.ini");
  for (const auto& [path, problem] : {std::pair{dir.path(), std::string("is a directory; give an INI file")},
                                      std::pair{missing, std::string("does not exist")}}) {
    const Outcome run = mpitune_run(3, "--config " + path);
    EXPECT_EQ(run.code, 2) << run.out;
    auto lines = mpitune_lines(run.out);
    ASSERT_EQ(lines.size(), 1u) << run.out;
    EXPECT_EQ(lines[0].rfind("mpitune: error: --config: '" + path + "' " + problem, 0), 0u) << lines[0];
    const Outcome validate = run_shell(std::string(MPITUNE_EXE) + " validate --config " + path);
    EXPECT_EQ(validate.code, 2) << validate.out;
    lines = mpitune_lines(validate.out);
    ASSERT_EQ(lines.size(), 1u) << validate.out;
    EXPECT_EQ(lines[0].rfind("mpitune: error: --config: '" + path + "' " + problem, 0), 0u) << lines[0];
  }
}

TEST_F(CliErrors, OutputWhereNoFileCanBeCreatedIsCaughtBeforeAnythingRuns) {
  // /proc takes no files, even root's (access(2) would say writable): exit 2 and one line, not
  // an MPI abort with HDF5's messages.
  const Outcome o = mpitune_run(3, "--config " + config + " --set experiment.output=/proc/x.h5");
  EXPECT_EQ(o.code, 2) << o.out;
  const auto lines = mpitune_lines(o.out);
  ASSERT_EQ(lines.size(), 1u) << o.out;
  EXPECT_EQ(lines[0].rfind("mpitune: error: experiment.output: cannot create '/proc/x.h5'", 0), 0u) << lines[0];
  EXPECT_EQ(o.out.find("HDF5"), std::string::npos) << o.out;
}

TEST_F(CliErrors, ValidateChecksTheOutputWithTheConfigsOverwriteRule) {
  const std::string validate = std::string(MPITUNE_EXE) + " validate --config " + config;
  Outcome o = run_shell(validate + " --set experiment.output=/proc/x.h5");
  EXPECT_EQ(o.code, 2) << o.out;
  ASSERT_EQ(mpitune_lines(o.out).size(), 1u) << o.out;
  EXPECT_NE(o.out.find("mpitune: error: experiment.output: cannot create '/proc/x.h5'"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("config ok"), std::string::npos) << o.out;
  testing::write_file(out_file, "old results");
  o = run_shell(validate + " --set experiment.output=" + out_file);
  EXPECT_EQ(o.code, 2) << o.out;
  EXPECT_NE(o.out.find("mpitune: error: experiment.output: '" + out_file + "' exists; set experiment.overwrite = true"),
            std::string::npos) << o.out;
  o = run_shell(validate + " --set experiment.output=" + out_file + " --set experiment.overwrite=true");
  EXPECT_EQ(o.code, 0) << o.out;
  EXPECT_NE(o.out.find("config ok"), std::string::npos) << o.out;
  EXPECT_EQ(testing::read_file(out_file), "old results");
}

// mpi_scripts/mpitune-run as the README writes it, from an environment without Open MPI's
// root and oversubscription settings: env.sh supplies them (3 ranks on this 2-core machine).
TEST_F(CliErrors, TheRunWrapperSourcesTheMpiSettingsAndPassesTheExitCode) {
  const std::string wrapper = "env -u OMPI_ALLOW_RUN_AS_ROOT -u OMPI_ALLOW_RUN_AS_ROOT_CONFIRM "
                              "-u OMPI_MCA_rmaps_base_oversubscribe MPITUNE_BUILD_DIR=" +
                              std::filesystem::path(MPITUNE_EXE).parent_path().string() + " " +
                              MPITUNE_SOURCE_DIR + "/mpi_scripts/mpitune-run";
  const Outcome ok = run_shell(wrapper + " -np 3 --config " + config + " --quiet --set experiment.output=" + out_file);
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(std::filesystem::is_regular_file(out_file)) << ok.out;
  const Outcome bad = run_shell(wrapper + " -np 3 --config " + config + " --set train.lrr=1");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("mpitune: error: train.lrr: unknown key"), std::string::npos) << bad.out;
  const Outcome usage = run_shell(wrapper + " --config " + config);
  EXPECT_EQ(usage.code, 2) << usage.out;
  EXPECT_NE(usage.out.find("usage: mpi_scripts/mpitune-run -np N"), std::string::npos) << usage.out;
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

// The project's own base model (mpi_scripts/base_model.sh; mpi_scripts/test.sh makes it before
// the tests): the embedded default and the workshop configs fine-tune it.
std::string base_model() {
  const std::string dir = mpitune_cache_dir() + "/base-fortunes";
  EXPECT_TRUE(std::filesystem::exists(dir + "/config.json"))
      << dir << " is missing: run mpi_scripts/base_model.sh (mpi_scripts/test.sh does)";
  return dir;
}

TEST(Cli, EveryExampleConfigValidates) {
  int n = 0;
  const std::string root = std::string(MPITUNE_SOURCE_DIR) + "/configs";
  for (const std::string& folder : {root, root + "/workshop"}) {
    for (const auto& e : std::filesystem::directory_iterator(folder)) {
      if (e.path().extension() != ".ini") continue;
      std::string cmd = std::string(MPITUNE_EXE) + " validate --np 5 --config " + e.path().string();
      // base_model.sh trains its tokenizer first; the cached base model holds the same one.
      if (e.path().filename() == "base_model.ini") cmd += " --set data.tokenizer=" + base_model();
      const Outcome o = run_shell(cmd);
      EXPECT_EQ(o.code, 0) << e.path() << ": " << o.out;
      ++n;
    }
  }
  EXPECT_GE(n, 13);
}

TEST(Cli, ValidateAcceptsTheDefaultConfigAndChecksTheWorldSize) {
  base_model();
  const Outcome ok = run_shell(std::string(MPITUNE_EXE) + " validate --np 5");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("config ok"), std::string::npos);
  const Outcome bad = run_shell(std::string(MPITUNE_EXE) + " validate --np 5 --set experiment.group_size=3");
  EXPECT_EQ(bad.code, 2) << bad.out;
}

}  // namespace
}  // namespace mpitune
