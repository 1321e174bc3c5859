// Random search: every trial's configuration is a pure function of (experiment seed, trial id).
//
// Seeding per trial rather than drawing from one shared stream means a resumed experiment, or
// one whose trials are created in a different order by a different number of groups, proposes
// exactly the same configuration for the same trial id.
#include <memory>

#include "mpitune/search/searcher.hpp"

namespace mpitune {
namespace {

class RandomSearcher final : public Searcher {
 public:
  RandomSearcher(const Space& space, uint64_t seed) : space_(space), seed_(seed) {}

  std::string name() const override { return "random"; }

  std::optional<HParams> suggest(TrialId id, double) override {
    Rng rng(derive_seed(seed_, "search", static_cast<uint64_t>(id)));
    return space_.sample(rng);
  }

 private:
  Space space_;
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<Searcher> make_random_searcher(const Space& space, uint64_t seed) {
  return std::make_unique<RandomSearcher>(space, seed);
}

}  // namespace mpitune
