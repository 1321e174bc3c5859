#include <gtest/gtest.h>

#include "mpitune/core/config.hpp"
#include "mpitune/core/error.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

const char* kBase = R"(
[experiment]
name = t
max_trials = 8
[space]
lr = loguniform(1e-4, 1e-2)
batch_size = choice(8, 16)
[scheduler]
type = asha
max_t = 27
grace_period = 3
)";

ExperimentConfig parse_with(const std::string& extra_override = "") {
  IniFile ini = IniFile::parse(kBase);
  if (!extra_override.empty()) ini.apply_override(extra_override);
  return parse_config(ini);
}

// The field a ConfigError names, or "" when parsing succeeds.
std::string error_field(const std::string& override_) {
  try {
    parse_with(override_);
  } catch (const ConfigError& e) {
    return e.field();
  }
  return "";
}

TEST(Config, ReadsTypedValuesAndDefaults) {
  const ExperimentConfig c = parse_with();
  EXPECT_EQ(c.experiment.name, "t");
  EXPECT_EQ(c.experiment.max_trials, 8);
  EXPECT_EQ(c.scheduler.max_t, 27);
  EXPECT_EQ(c.scheduler.grace_period, 3);
  EXPECT_DOUBLE_EQ(c.scheduler.reduction_factor, 3.0);  // mpitune's eta default
  EXPECT_EQ(c.scheduler.asha_rule, "topk");
  EXPECT_EQ(c.space.size(), 2u);
  EXPECT_EQ(c.output_path(), "results/t.h5");
}

TEST(Config, UnknownSectionsAndKeysAreNamedWithAHint) {
  EXPECT_EQ(error_field("train.lrr=0.1"), "train.lrr");
  EXPECT_EQ(error_field("trian.lr=0.1"), "[trian]");
  try {
    parse_with("scheduler.grace=3");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("grace_period"), std::string::npos) << e.what();
  }
}

TEST(Config, BadValuesNameTheirField) {
  EXPECT_EQ(error_field("scheduler.max_t=0"), "scheduler.max_t");
  EXPECT_EQ(error_field("scheduler.max_t=ten"), "scheduler.max_t");
  EXPECT_EQ(error_field("scheduler.grace_period=81"), "scheduler.grace_period");  // > max_t
  EXPECT_EQ(error_field("scheduler.reduction_factor=1"), "scheduler.reduction_factor");
  EXPECT_EQ(error_field("experiment.mode=lowest"), "experiment.mode");
  EXPECT_EQ(error_field("train.precision=fp8"), "train.precision");
  EXPECT_EQ(error_field("model.n_head=5"), "model.n_head");  // does not divide d_model = 64
  EXPECT_EQ(error_field("train.batch_size=7"), "");           // G = 1, accumulation 1: fine
  EXPECT_EQ(error_field("train.accumulation=3"), "space.batch_size");  // 8 not a multiple of 3
  EXPECT_EQ(error_field("space.momentum=uniform(0, 1)"), "space.momentum");  // not a gpt knob
}

TEST(Config, SpaceRangesAreChecked) {
  EXPECT_EQ(error_field("space.lr=loguniform(1e-2, 1e-4)"), "space.lr");
  EXPECT_EQ(error_field("space.lr=uniform(0.1, 0.1)"), "space.lr");
}

TEST(Config, WithHparamsOverridesTrainAndModelKeys) {
  const ExperimentConfig base = parse_with();
  HParams hp;
  hp.set("lr", ParamValue(0.005));
  hp.set("batch_size", ParamValue(int64_t{16}));
  hp.set("n_layer", ParamValue(int64_t{3}));
  const ExperimentConfig t = with_hparams(base, hp);
  EXPECT_DOUBLE_EQ(t.train.lr, 0.005);
  EXPECT_EQ(t.train.batch_size, 16);
  EXPECT_EQ(t.model.n_layer, 3);
  EXPECT_EQ(base.train.batch_size, 16);  // the default, untouched
  HParams bad;
  bad.set("n_head", ParamValue(int64_t{3}));
  EXPECT_THROW(with_hparams(base, bad), ConfigError);
}

TEST(Config, PbtRunsItsWholePopulation) {
  IniFile ini = IniFile::parse(kBase);
  ini.apply_override("scheduler.type=pbt");
  ini.apply_override("scheduler.population=12");
  ini.apply_override("space.batch_size=choice(8, 16)");
  IniFile no_max = IniFile::parse("[space]\nlr = loguniform(1e-4, 1e-2)\n[scheduler]\ntype = pbt\npopulation = 12\n");
  EXPECT_EQ(parse_config(no_max).experiment.max_trials, 12);  // not the default 16, nor below 12
  EXPECT_THROW(parse_config(ini), ConfigError);              // max_trials = 8 < 12
  ini.apply_override("experiment.max_trials=20");
  EXPECT_EQ(parse_config(ini).experiment.max_trials, 20);    // room for replacements
}

TEST(Config, NotTunableKeysAreNotInTheTunableList) {
  const auto names = gpt_tunable_names();
  auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  EXPECT_TRUE(has("lr"));
  EXPECT_TRUE(has("n_layer"));
  EXPECT_FALSE(has("threads"));
  EXPECT_FALSE(has("device"));
}

TEST(Config, SpaceNamesMayBeQualifiedAndLoraKeysAreTunable) {
  EXPECT_EQ(gpt_hparam_key("lr")->section, "train");
  EXPECT_EQ(gpt_hparam_key("train.lr")->key, "lr");
  EXPECT_EQ(gpt_hparam_key("model.seq_len")->section, "model");
  EXPECT_EQ(gpt_hparam_key("lora.rank")->section, "lora");
  EXPECT_FALSE(gpt_hparam_key("rank"));         // [lora] keys are always qualified
  EXPECT_FALSE(gpt_hparam_key("model.path"));   // which model it is: not a trial's choice
  EXPECT_FALSE(gpt_hparam_key("train.threads"));
  EXPECT_FALSE(gpt_hparam_key("data.corpus"));
  IniFile ini = IniFile::parse(kBase);
  ini.set("space", "lora.rank", "choice(4, 8)");
  ini.set("space", "lora.alpha", "uniform(8, 32)");
  ini.set("lora", "rank", "8");
  const ExperimentConfig c = parse_config(ini);
  HParams hp;
  hp.set("lora.rank", 4);
  hp.set("lora.alpha", 12.5);
  hp.set("train.lr", 0.002);
  const ExperimentConfig t = with_hparams(c, hp);
  EXPECT_EQ(t.lora.rank, 4);
  EXPECT_EQ(t.lora.alpha, 12.5);
  EXPECT_EQ(t.train.lr, 0.002);
  EXPECT_EQ(c.lora.rank, 8);  // the base is unchanged
  // Through --set too: the key of [space] carries its dot.
  IniFile over = IniFile::parse(kBase);
  over.apply_override("space.lora.dropout=uniform(0, 0.1)");
  EXPECT_NE(parse_config(over).space.find("lora.dropout"), nullptr);
}

TEST(Config, PbtCannotTuneShapesOrTheLoraRankButMayTuneAlpha) {
  auto pbt = [](const std::string& space) {
    IniFile ini = IniFile::parse("[space]\nlr = loguniform(1e-4, 1e-2)\n" + space + "[scheduler]\ntype = pbt\n[lora]\nrank = 4\n");
    return parse_config(ini);
  };
  EXPECT_NO_THROW(pbt("lora.alpha = uniform(4, 32)\n"));
  for (const char* bad : {"lora.rank = choice(4, 8)\n", "model.n_layer = choice(2, 4)\n", "lora.targets = choice(mlp, attention)\n"}) {
    try {
      pbt(bad);
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.field().rfind("space.", 0), 0u) << e.what();
    }
  }
}

TEST(Config, APretrainedModelNeedsAFolderAndTakesItsShapeFromIt) {
  auto field = [](const std::string& model) {
    try {
      parse_config(IniFile::parse(std::string("[space]\nlr = loguniform(1e-4, 1e-2)\n[model]\n") + model));
    } catch (const ConfigError& e) {
      return e.field();
    }
    return std::string();
  };
  EXPECT_EQ(field("init = pretrained\n"), "model.path");
  EXPECT_EQ(field("init = pretrained\npath = /m\nd_model = 64\n"), "model.d_model");
  EXPECT_EQ(field("path = /m\n"), "model.path");  // a folder but init = scratch
  EXPECT_EQ(field("init = pretrained\npath = /m\nseq_len = 128\n"), "");  // the context may be set
  EXPECT_EQ(field("init = finetuned\n"), "model.init");
}

TEST(Config, KeepAndTheNewDataKeysAreChecked) {
  EXPECT_EQ(error_field("experiment.keep=some"), "experiment.keep");
  EXPECT_EQ(error_field("experiment.keep=all"), "");
  EXPECT_EQ(error_field("lora.rank=-1"), "lora.rank");
  EXPECT_EQ(error_field("lora.alpha=0"), "lora.alpha");
  EXPECT_EQ(error_field("data.test_fraction=0.95"), "data.test_fraction");
  EXPECT_EQ(error_field("data.tokenizer="), "data.tokenizer");
}

TEST(Config, InitialConfigsAreParsedAgainstTheSpace) {
  const ExperimentConfig c = parse_with("search.initial_configs=lr=3e-4, batch_size=16; batch_size=8, lr=1e-3");
  ASSERT_EQ(c.search.initial_configs.size(), 2u);
  EXPECT_EQ(c.search.initial_configs[0].at("lr").as_double(), 3e-4);
  EXPECT_EQ(c.search.initial_configs[0].at("batch_size"), ParamValue(int64_t{16}));
  EXPECT_EQ(c.search.initial_configs[1].entries()[0].first, "lr");  // space order
  EXPECT_EQ(c.search.initial_configs_text, "lr=3e-4, batch_size=16; batch_size=8, lr=1e-3");
  EXPECT_TRUE(parse_with().search.initial_configs.empty());
  EXPECT_EQ(error_field("search.initial_configs=lr=3e-4"), "search.initial_configs");  // batch_size missing
  EXPECT_EQ(error_field("search.initial_configs=lr=3e-4, batch_size=12"), "search.initial_configs");
}

TEST(Config, AnInitialConfigMustBeAValidTrialConfig) {
  // n_head = 3 is inside int(1, 8) but does not divide d_model: the trial would fail.
  IniFile ini = IniFile::parse(kBase);
  ini.apply_override("space.n_head=int(1, 8)");
  ini.apply_override("search.initial_configs=lr=1e-3, batch_size=8, n_head=4; lr=1e-3, batch_size=8, n_head=3");
  try {
    parse_config(ini);
    FAIL() << "n_head = 3 accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "search.initial_configs");
    const std::string msg = e.what();
    EXPECT_NE(msg.find("configuration 2 is invalid (model.n_head: 3 does not divide"), std::string::npos) << msg;
  }
}

TEST(Config, AConfigPathThatIsAFolderOrMissingNamesThePath) {
  testing::TempDir dir;
  auto load_error = [](const std::string& path) -> std::string {
    try {
      IniFile::load(path);
      return "";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.field(), "--config");
      return e.what();
    }
  };
  EXPECT_EQ(load_error(dir.path()), "--config: '" + dir.path() + "' is a directory; give an INI file such as configs/asha.ini");
  EXPECT_EQ(load_error(dir.file("nope.ini")).rfind("--config: '" + dir.file("nope.ini") + "' does not exist", 0), 0u);
  testing::write_file(dir.file("plain"), "x");
  EXPECT_NE(load_error(dir.file("plain/c.ini")).find("does not exist"), std::string::npos);  // below a file
  testing::write_file(dir.file("c.ini"), "[experiment]\nname = loaded\n");
  EXPECT_EQ(IniFile::load(dir.file("c.ini")).get("experiment", "name"), std::optional<std::string>("loaded"));
}

}  // namespace
}  // namespace mpitune
