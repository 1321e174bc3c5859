// HfModelConfig::load reads config.json through core's file module: the file's bytes as they
// are, and a folder without a readable config.json is the user's model.path to fix.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <string>

#include "mpitune/core/error.hpp"
#include "mpitune/hf/hf_config.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

const char* kFix = "point model.path at a Hugging Face model folder (config.json, model.safetensors, tokenizer files)";

std::string load_error(const std::string& dir) {
  try {
    HfModelConfig::load(dir);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "model.path");
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError for " << dir;
  return "";
}

TEST(HfConfigFile, LoadsTheFileAsWritten) {
  testing::TempDir dir;
  const std::string text =
      "{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2LMHeadModel\"], \"vocab_size\": 300,\n"
      " \"n_embd\": 32, \"n_layer\": 2, \"n_head\": 4, \"n_positions\": 64}\n";
  testing::write_file(dir.file("config.json"), text);
  const HfModelConfig c = HfModelConfig::load(dir.path());
  EXPECT_EQ(c.json_text, text);
  EXPECT_EQ(c.dir, dir.path());
  EXPECT_EQ(c.model_type, "gpt2");
  EXPECT_EQ(c.vocab_size, 300);
  EXPECT_EQ(c.n_layer, 2);
}

TEST(HfConfigFile, AMissingOrUnreadableConfigIsModelPathsError) {
  testing::TempDir dir;
  EXPECT_EQ(load_error(dir.path()), "model.path: cannot read " + dir.file("config.json") + "; " + kFix);
  EXPECT_EQ(load_error(dir.file("nowhere")), "model.path: cannot read " + dir.file("nowhere/config.json") + "; " + kFix);
  // A folder named config.json opens and fails to read: the same error, not a JSON one.
  testing::TempDir odd;
  ASSERT_EQ(::mkdir(odd.file("config.json").c_str(), 0755), 0);
  EXPECT_EQ(load_error(odd.path()), "model.path: cannot read " + odd.file("config.json") + "; " + kFix);
}

}  // namespace
}  // namespace mpitune
