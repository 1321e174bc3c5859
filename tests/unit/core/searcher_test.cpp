// Random and grid searchers: reproducible, independent of creation order, grid exactly once.
#include <gtest/gtest.h>

#include <set>

#include "mpitune/search/searcher.hpp"

namespace mpitune {
namespace {

Space mixed_space() {
  return Space({Space::parse_domain("lr", "loguniform(1e-4, 1e-2)"),
                Space::parse_domain("bs", "grid(8, 16, 32)"),
                Space::parse_domain("wd", "uniform(0, 0.2)"),
                Space::parse_domain("act", "grid(relu, gelu)")});
}

TEST(RandomSearcher, SameSeedSameConfigsAnyOrder) {
  const Space space = mixed_space();
  auto a = make_random_searcher(space, 11);
  auto b = make_random_searcher(space, 11);
  EXPECT_EQ(a->name(), "random");
  std::vector<HParams> forward;
  for (TrialId id = 0; id < 20; ++id) forward.push_back(*a->suggest(id, 1));
  // Asking in reverse order, with a different budget, gives each id the same configuration.
  for (TrialId id = 19; id >= 0; --id) EXPECT_EQ(*b->suggest(id, 27), forward[static_cast<size_t>(id)]);
  // Asking again for the same id repeats it, and observe() changes nothing.
  a->observe(3, forward[3], 1, 0.5);
  EXPECT_EQ(*a->suggest(3, 1), forward[3]);
  // Different trials and different seeds differ.
  std::set<std::string> distinct;
  for (const auto& hp : forward) distinct.insert(hp.to_string());
  EXPECT_GT(distinct.size(), 15u);
  auto c = make_random_searcher(space, 12);
  EXPECT_NE(*c->suggest(0, 1), forward[0]);
}

TEST(RandomSearcher, NeverRunsOut) {
  auto s = make_random_searcher(Space({Space::parse_domain("x", "choice(1)")}), 0);
  for (TrialId id = 0; id < 100; ++id) ASSERT_TRUE(s->suggest(id, 1).has_value());
}

TEST(GridSearcher, EnumeratesTheProductOnceLastFastest) {
  const Space space = mixed_space();
  auto g = make_grid_searcher(space, 5);
  auto r = make_random_searcher(space, 5);
  EXPECT_EQ(g->name(), "grid");
  std::vector<std::pair<int64_t, std::string>> seen;
  for (TrialId id = 0; id < 6; ++id) {
    const auto hp = g->suggest(id, 1);
    ASSERT_TRUE(hp.has_value()) << id;
    seen.emplace_back(hp->at("bs").as_int(), hp->at("act").as_string());
    // Non-grid values are what the random searcher gives the same trial id.
    const HParams rnd = *r->suggest(id, 1);
    EXPECT_EQ(hp->at("lr"), rnd.at("lr"));
    EXPECT_EQ(hp->at("wd"), rnd.at("wd"));
    // Space order is kept.
    EXPECT_EQ(hp->entries()[1].first, "bs");
  }
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {8, "relu"}, {8, "gelu"}, {16, "relu"}, {16, "gelu"}, {32, "relu"}, {32, "gelu"}};
  EXPECT_EQ(seen, expected);
  EXPECT_FALSE(g->suggest(6, 1).has_value());
  EXPECT_FALSE(g->suggest(7, 1).has_value());  // stays exhausted
}

TEST(GridSearcher, PointsFollowSuggestionOrderNotIds) {
  // Trial ids with gaps (a failed start) still get every grid point once.
  auto g = make_grid_searcher(Space({Space::parse_domain("x", "grid(1, 2, 3)")}), 0);
  std::vector<int64_t> xs;
  for (TrialId id : {4, 9, 10}) xs.push_back(g->suggest(id, 1)->at("x").as_int());
  EXPECT_EQ(xs, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_FALSE(g->suggest(11, 1).has_value());
}

TEST(GridSearcher, SameSeedSameSequence) {
  const Space space = mixed_space();
  auto a = make_grid_searcher(space, 9);
  auto b = make_grid_searcher(space, 9);
  for (TrialId id = 0; id < 7; ++id) EXPECT_EQ(a->suggest(id, 1), b->suggest(id, 1));
}

TEST(GridSearcher, WithoutGridDomainsProposesOnePoint) {
  auto g = make_grid_searcher(Space({Space::parse_domain("lr", "uniform(0, 1)")}), 0);
  EXPECT_TRUE(g->suggest(0, 1).has_value());
  EXPECT_FALSE(g->suggest(1, 1).has_value());
}

}  // namespace
}  // namespace mpitune
