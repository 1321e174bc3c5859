// BOHB's searcher: the Searcher seam around BohbModel (kde.hpp).
//
// Each suggestion draws from its own stream, derive_seed(seed, "bohb", trial id): what trial i
// gets depends on the observations made before it was suggested and on nothing else, so the
// same events reproduce the same configurations. The budget the trial will first run to does
// not matter: BOHB always samples from the model of the largest budget that has one.
#include <memory>

#include "mpitune/search/kde.hpp"
#include "mpitune/search/searcher.hpp"

namespace mpitune {
namespace {

class BohbSearcher final : public Searcher {
 public:
  BohbSearcher(const Space& space, uint64_t seed, const BohbOptions& o) : model_(space, o), seed_(seed) {}

  std::string name() const override { return "bohb"; }

  std::optional<HParams> suggest(TrialId id, double) override {
    Rng rng(derive_seed(seed_, "bohb", static_cast<uint64_t>(id)));
    return model_.suggest(rng).hp;
  }

  void observe(TrialId id, const HParams& hp, double budget, double loss) override {
    model_.observe(id, hp, budget, loss);
  }

 private:
  BohbModel model_;
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<Searcher> make_bohb_searcher(const Space& space, uint64_t seed, const BohbOptions& o) {
  return std::make_unique<BohbSearcher>(space, seed, o);
}

}  // namespace mpitune
