// The model commands and the model keys as a user meets them: bad input to mpitune eval,
// export and run (a pretrained folder that is not there, shape keys beside it, LoRA targets that
// name nothing, PBT tuning a LoRA rank) gives one line naming the flag or key, exit code 2.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/cli_support.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::Outcome;
using testing::run_shell;

std::vector<std::string> mpitune_lines(const std::string& out) { return testing::lines_starting(out, "mpitune"); }

// Exit code 2 and exactly one line of mpitune's, which names `what`.
void expect_one_line_error(const Outcome& o, const std::string& what) {
  EXPECT_EQ(o.code, 2) << o.out;
  const auto lines = mpitune_lines(o.out);
  ASSERT_EQ(lines.size(), 1u) << o.out;
  EXPECT_NE(lines[0].find(what), std::string::npos) << lines[0];
}

const std::string kExe = MPITUNE_EXE;
const std::string kMpirun = testing::mpirun(2);

TEST(ModelCli, EvalNamesTheMissingFlagAndTheMissingModel) {
  expect_one_line_error(run_shell(kExe + " eval --corpus /usr/share/games/fortunes/goedel"), "--model");
  expect_one_line_error(run_shell(kExe + " eval --model /nonexistent/model --corpus /usr/share/games/fortunes/goedel"),
                        "--model: cannot read /nonexistent/model/config.json");
  expect_one_line_error(run_shell(kExe + " eval --model /x --corpus /y --precision fp16"), "--precision");
  EXPECT_EQ(run_shell(kExe + " eval --help").code, 0);
  EXPECT_EQ(run_shell(kExe + " export --help").code, 0);
}

TEST(ModelCli, ExportNamesWhatIsMissing) {
  testing::TempDir dir("mpitune-cli");
  expect_one_line_error(run_shell(kExe + " export " + dir.file("none.h5") + " --trial 0 --out " + dir.file("o")),
                        "none.h5");
  // A synthetic experiment has no model to export.
  testing::write_file(dir.file("s.ini"),
                      "[experiment]\nname = s\nmax_trials = 2\ntrainable = synthetic\n[space]\nx = uniform(0, 1)\n"
                      "[scheduler]\ntype = fifo\nmax_t = 2\n");
  const Outcome ran = run_shell(kMpirun + kExe + " run --quiet --config " + dir.file("s.ini") +
                                " --set experiment.output=" + dir.file("s.h5"));
  ASSERT_EQ(ran.code, 0) << ran.out;
  expect_one_line_error(run_shell(kExe + " export " + dir.file("s.h5") + " --trial 0 --out " + dir.file("o")),
                        "not of a model");
  EXPECT_FALSE(std::filesystem::exists(dir.file("o")));
}

class ModelConfigErrors : public ::testing::Test {
 protected:
  testing::TempDir dir{"mpitune-cli"};
  // `mpitune run` on 2 ranks of a config with `text` below a small [space], rejected with one
  // line naming `what` and no result file.
  void expect_rejected(const std::string& text, const std::string& what) {
    testing::write_file(dir.file("c.ini"), "[experiment]\nname = m\n[space]\nlr = loguniform(1e-4, 1e-2)\n" + text);
    const Outcome o = run_shell(kMpirun + kExe + " run --config " + dir.file("c.ini") +
                                " --set experiment.output=" + dir.file("m.h5"));
    expect_one_line_error(o, "mpitune: error: " + what);
    EXPECT_FALSE(std::filesystem::exists(dir.file("m.h5")));
  }
};

TEST_F(ModelConfigErrors, PretrainedWithoutAFolder) {
  expect_rejected("[model]\ninit = pretrained\n", "model.path: is empty");
  expect_rejected("[model]\ninit = pretrained\npath = /nonexistent/m\n", "model.path: cannot read /nonexistent/m/config.json");
}

TEST_F(ModelConfigErrors, PretrainedShapesComeFromConfigJson) {
  expect_rejected("[model]\ninit = pretrained\npath = /nonexistent/m\nn_layer = 4\n", "model.n_layer");
}

TEST_F(ModelConfigErrors, LoraTargetsThatNameNothing) {
  expect_rejected("[lora]\nrank = 4\ntargets = q_prj\n", "lora.targets: 'q_prj' names no linear layer");
}

TEST_F(ModelConfigErrors, PbtCannotTuneTheLoraRank) {
  expect_rejected("lora.rank = choice(4, 8)\n[scheduler]\ntype = pbt\n[lora]\nrank = 4\n", "space.lora.rank");  // more [space]
}

TEST_F(ModelConfigErrors, UnknownLoraKey) { expect_rejected("[lora]\nrnak = 4\n", "lora.rnak: unknown key"); }

}  // namespace
}  // namespace mpitune
