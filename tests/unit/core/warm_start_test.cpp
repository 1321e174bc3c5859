// Warm start ([search] initial_configs): the configurations are parsed against the space with
// one-line errors, go out first and in order under random, grid and BOHB, and the searcher
// behind them gets the budget and every observation.
#include <gtest/gtest.h>

#include <map>

#include "mpitune/coord/factories.hpp"
#include "mpitune/coord/simulator.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/objective/synthetic.hpp"
#include "mpitune/search/searcher.hpp"

namespace mpitune {
namespace {

Space typed_space() {
  return Space({Space::parse_domain("lr", "loguniform(1e-4, 1e-2)"),
                Space::parse_domain("bs", "choice(8, 16, 32)"),
                Space::parse_domain("n", "int(2, 6)"),
                Space::parse_domain("act", "choice(relu, gelu)")});
}

// The message of the ConfigError parse_initial_configs throws, or "" when it accepts the text.
std::string parse_error(const std::string& text) {
  try {
    parse_initial_configs(typed_space(), text);
    return "";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "search.initial_configs");
    return e.what();
  }
}

ExperimentConfig config(const std::string& body, const std::vector<std::string>& overrides = {}) {
  IniFile ini = IniFile::parse(body);
  for (const auto& o : overrides) ini.apply_override(o);
  return parse_config(ini);
}

HParams hp_of(std::initializer_list<std::pair<const char*, ParamValue>> entries) {
  HParams hp;
  for (const auto& [name, value] : entries) hp.set(name, value);
  return hp;
}

TEST(InitialConfigs, ValuesAreTypedByTheirDomainAndPutInSpaceOrder) {
  const auto configs = parse_initial_configs(
      typed_space(), "bs=16, lr=3e-4, n=4, act=gelu; lr=1e-2 , bs = 32.0, n=2, act='relu';");
  ASSERT_EQ(configs.size(), 2u);
  const HParams first = hp_of({{"lr", 3e-4}, {"bs", int64_t{16}}, {"n", int64_t{4}}, {"act", "gelu"}});
  EXPECT_EQ(configs[0], first);
  EXPECT_TRUE(configs[0].at("bs").is_int());
  EXPECT_TRUE(configs[0].at("n").is_int());
  EXPECT_TRUE(configs[0].at("lr").is_double());
  // 32.0 names the choice 32 (an int), a quoted text its choice, a bound is inside the range.
  const HParams second = hp_of({{"lr", 1e-2}, {"bs", int64_t{32}}, {"n", int64_t{2}}, {"act", "relu"}});
  EXPECT_EQ(configs[1], second);
  EXPECT_TRUE(configs[1].at("bs").is_int());
  EXPECT_TRUE(parse_initial_configs(typed_space(), "  ").empty());
}

TEST(InitialConfigs, BadInputNamesTheConfigurationAndTheName) {
  const std::string ok = "lr=1e-3, bs=8, n=3, act=relu";
  struct Case {
    std::string text;
    std::vector<std::string> expected;  // substrings of the message
  };
  const std::vector<Case> cases = {
      {ok + "; lrr=1e-3, bs=8, n=3, act=relu", {"configuration 2", "'lrr' is not a [space] hyperparameter", "lr, bs, n, act"}},
      {"lr=0.5, bs=8, n=3, act=relu", {"configuration 1, lr = '0.5' is outside loguniform(0.0001, 0.01)"}},
      {"lr=-1e-3, bs=8, n=3, act=relu", {"configuration 1, lr", "outside"}},
      {"lr=fast, bs=8, n=3, act=relu", {"configuration 1, lr = 'fast' is not a number"}},
      {ok + "; lr=1e-3, bs=8, n=3.5, act=relu", {"configuration 2, n = '3.5' is not a whole number"}},
      {ok + "; lr=1e-3, bs=8, n=7, act=relu", {"configuration 2, n = '7' is outside int(2, 6)"}},
      {"lr=1e-3, bs=12, n=3, act=relu", {"configuration 1, bs = '12' is not one of choice(8, 16, 32)"}},
      {"lr=1e-3, bs=8, n=3, act=tanh", {"configuration 1, act = 'tanh' is not one of choice(relu, gelu)"}},
      {ok + "; " + ok + "; lr=1e-3, n=3", {"configuration 3 does not give bs, act", "give every [space] hyperparameter"}},
      {"lr=1e-3, bs=8, n=3, act=relu, lr=2e-3", {"configuration 1: 'lr' is given twice"}},
      {"lr 1e-3, bs=8, n=3, act=relu", {"configuration 1: 'lr 1e-3' is not name=value"}},
      {ok + ";; " + ok, {"configuration 2 is empty"}},
      {"lr=1e-3, bs=8, n=3, act='relu", {"unterminated quote"}},
  };
  for (const auto& c : cases) {
    const std::string msg = parse_error(c.text);
    ASSERT_NE(msg, "") << c.text;
    EXPECT_EQ(msg.rfind("search.initial_configs: ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const auto& e : c.expected) EXPECT_NE(msg.find(e), std::string::npos) << c.text << " -> " << msg;
  }
}

// A searcher that records what reaches it.
class RecordingSearcher final : public Searcher {
 public:
  std::string name() const override { return "recording"; }
  std::optional<HParams> suggest(TrialId id, double budget) override {
    suggested.emplace_back(id, budget);
    return hp_of({{"x", static_cast<int64_t>(id)}});
  }
  void observe(TrialId id, const HParams& hp, double budget, double loss) override {
    observed.push_back({id, hp, budget, loss});
  }
  struct Observation {
    TrialId id;
    HParams hp;
    double budget, loss;
  };
  std::vector<std::pair<TrialId, double>> suggested;
  std::vector<Observation> observed;
};

TEST(WarmStartSearcher, CountsCallsNotIdsThenPassesIdAndBudgetOn) {
  auto inner = std::make_unique<RecordingSearcher>();
  RecordingSearcher& rec = *inner;
  const std::vector<HParams> initial = {hp_of({{"x", int64_t{100}}}), hp_of({{"x", int64_t{200}}})};
  auto s = make_warm_start_searcher(std::move(inner), initial);
  EXPECT_EQ(s->name(), "recording");
  // Ids with a gap (a failed start) still get the two configurations in order.
  EXPECT_EQ(*s->suggest(4, 3), initial[0]);
  EXPECT_EQ(*s->suggest(9, 3), initial[1]);
  EXPECT_TRUE(rec.suggested.empty());
  EXPECT_EQ(*s->suggest(10, 27), hp_of({{"x", int64_t{10}}}));
  ASSERT_EQ(rec.suggested.size(), 1u);
  EXPECT_EQ(rec.suggested[0], std::make_pair(TrialId{10}, 27.0));
  // Observations of the warm-start trials reach the inner searcher too, unchanged.
  s->observe(4, initial[0], 3, 0.25);
  s->observe(10, hp_of({{"x", int64_t{10}}}), 9, 0.5);
  ASSERT_EQ(rec.observed.size(), 2u);
  EXPECT_EQ(rec.observed[0].id, 4);
  EXPECT_EQ(rec.observed[0].hp, initial[0]);
  EXPECT_EQ(rec.observed[0].budget, 3);
  EXPECT_EQ(rec.observed[0].loss, 0.25);
  EXPECT_EQ(rec.observed[1].id, 10);
}

TEST(WarmStartSearcher, NoInitialConfigsIsTheInnerSearcherItself) {
  auto inner = std::make_unique<RecordingSearcher>();
  Searcher* raw = inner.get();
  EXPECT_EQ(make_warm_start_searcher(std::move(inner), {}).get(), raw);
}

const char* kSynthetic = R"(
[experiment]
name = warm
seed = 5
max_trials = 6
trainable = synthetic
[space]
lr = loguniform(1e-4, 1e-2)
bs = grid(8, 16)
act = grid(relu, gelu)
[scheduler]
type = fifo
max_t = 4
)";

const std::string kTwoConfigs = "search.initial_configs=lr=3e-4, bs=16, act=gelu; lr=2e-3, bs=8, act=relu";

TEST(WarmStartSearcher, RandomSearchContinuesAsWithoutTheWarmStart) {
  const auto cfg = config(kSynthetic, {"search.type=random", kTwoConfigs});
  ASSERT_EQ(cfg.search.initial_configs.size(), 2u);
  auto warm = make_searcher(cfg);
  auto plain = make_searcher(config(kSynthetic, {"search.type=random"}));
  EXPECT_EQ(warm->name(), "random");
  EXPECT_EQ(*warm->suggest(0, 4), cfg.search.initial_configs[0]);
  EXPECT_EQ(*warm->suggest(1, 4), cfg.search.initial_configs[1]);
  for (TrialId id = 2; id < 6; ++id) EXPECT_EQ(*warm->suggest(id, 4), *plain->suggest(id, 4)) << id;
}

TEST(WarmStartSearcher, GridPointsFollowTheInitialConfigsAllOfThem) {
  const auto cfg = config(kSynthetic, {"search.type=grid", kTwoConfigs});
  auto warm = make_searcher(cfg);
  auto plain = make_searcher(config(kSynthetic, {"search.type=grid"}));
  EXPECT_EQ(*warm->suggest(0, 4), cfg.search.initial_configs[0]);
  EXPECT_EQ(*warm->suggest(1, 4), cfg.search.initial_configs[1]);
  // Then the whole grid from its first point (the same trial ids give the same lr draws).
  std::vector<std::pair<int64_t, std::string>> points;
  for (TrialId id = 2; id < 6; ++id) {
    const auto hp = warm->suggest(id, 4);
    ASSERT_TRUE(hp.has_value()) << id;
    EXPECT_EQ(*hp, *plain->suggest(id, 4)) << id;
    points.emplace_back(hp->at("bs").as_int(), hp->at("act").as_string());
  }
  const std::vector<std::pair<int64_t, std::string>> grid = {{8, "relu"}, {8, "gelu"}, {16, "relu"}, {16, "gelu"}};
  EXPECT_EQ(points, grid);
  EXPECT_FALSE(warm->suggest(6, 4).has_value());
}

TEST(WarmStartSearcher, BohbLearnsFromTheWarmStartTrials) {
  const std::vector<std::string> bohb = {"search.type=bohb", "search.random_fraction=0", "space.bs=choice(8, 16)",
                                         "space.act=choice(relu, gelu)"};
  std::vector<std::string> with_warm = bohb;
  with_warm.push_back(kTwoConfigs);
  const auto cfg = config(kSynthetic, with_warm);
  auto warm = make_searcher(cfg);
  auto same_observations = make_searcher(config(kSynthetic, bohb));
  auto no_observations = make_searcher(config(kSynthetic, bohb));
  EXPECT_EQ(warm->name(), "bohb");
  EXPECT_EQ(*warm->suggest(0, 4), cfg.search.initial_configs[0]);
  EXPECT_EQ(*warm->suggest(1, 4), cfg.search.initial_configs[1]);
  // 30 results at budget 4, enough for BOHB's model; the two warm-start trials are the best,
  // so they are in its good set.
  Rng rng(17);
  for (TrialId id = 0; id < 30; ++id) {
    const HParams hp = id < 2 ? cfg.search.initial_configs[static_cast<size_t>(id)] : cfg.space.sample(rng);
    const double loss = id < 2 ? 0.0 : 1 + hp.at("lr").as_double() * (hp.at("act").as_string() == "gelu" ? 1 : 2);
    warm->observe(id, hp, 4, loss);
    same_observations->observe(id, hp, 4, loss);
  }
  // BOHB's suggestion is a function of the trial id and the observations: the warm one saw them all.
  for (TrialId id = 30; id < 34; ++id) {
    const HParams hp = *warm->suggest(id, 4);
    EXPECT_EQ(hp, *same_observations->suggest(id, 4)) << id;
    EXPECT_NE(hp, *no_observations->suggest(id, 4)) << id;
  }
}

// Through the coordinator (simulated groups): trials 0 and 1 are the warm-start trials.
TEST(WarmStartSearcher, TheCoordinatorRunsThemFirstAndInOrder) {
  for (const char* type : {"random", "grid", "bohb"}) {
    const auto cfg = config(kSynthetic, {std::string("search.type=") + type, kTwoConfigs, "scheduler.type=asha",
                                         "scheduler.grace_period=1", "scheduler.max_t=4"});
    SimulationSetup s;
    s.cfg = &cfg;
    s.num_groups = 2;
    s.make_trainable = [&] { return make_synthetic_trainable(cfg); };
    const SimulationResult r = simulate(s);
    ASSERT_GE(r.data.trials.size(), 3u) << type;
    std::map<TrialId, TrialRecord> by_id;
    for (const auto& t : r.data.trials) by_id[t.id] = t;
    EXPECT_EQ(by_id.at(0).hparams, cfg.search.initial_configs[0]) << type;
    EXPECT_EQ(by_id.at(1).hparams, cfg.search.initial_configs[1]) << type;
    // Ids go out in start order: no other trial started before the warm-start ones.
    for (const auto& [id, t] : by_id) {
      if (id < 2) continue;
      EXPECT_GE(t.start_time, by_id.at(1).start_time) << type << " trial " << id;
    }
  }
}

}  // namespace
}  // namespace mpitune
