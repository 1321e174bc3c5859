// Grid search: the Cartesian product of every grid() domain, each point proposed once.
//
// Points go out in suggestion order (mixed-radix counter, last grid domain fastest), not by
// trial id, so a failed trial's id gap never skips a point. Domains that are not grid() get the
// value the random searcher would give the same trial id, which makes "grid over batch size,
// random over lr" reproducible in the same way as plain random search.
#include <memory>

#include "mpitune/core/error.hpp"
#include "mpitune/search/searcher.hpp"

namespace mpitune {
namespace {

class GridSearcher final : public Searcher {
 public:
  GridSearcher(const Space& space, uint64_t seed) : space_(space), seed_(seed) {
    for (size_t i = 0; i < space_.domains().size(); ++i)
      if (space_.domains()[i].kind == DomainKind::Grid) {
        MPITUNE_CHECK(!space_.domains()[i].values.empty(), "grid " + space_.domains()[i].name + " is empty");
        grid_dims_.push_back(i);
      }
    digits_.assign(grid_dims_.size(), 0);
  }

  std::string name() const override { return "grid"; }

  std::optional<HParams> suggest(TrialId id, double) override {
    if (exhausted_) return std::nullopt;
    // The same draws as the random searcher, in the same order, then the grid values on top.
    Rng rng(derive_seed(seed_, "search", static_cast<uint64_t>(id)));
    HParams hp = space_.sample(rng);
    for (size_t g = 0; g < grid_dims_.size(); ++g) {
      const Domain& d = space_.domains()[grid_dims_[g]];
      hp.set(d.name, d.values[digits_[g]]);
    }
    advance();
    return hp;
  }

 private:
  // Odometer increment; wrapping past the first digit means every point has been proposed.
  // With no grid() domain at all the product is the single empty point.
  void advance() {
    for (size_t g = grid_dims_.size(); g-- > 0;) {
      const size_t n = space_.domains()[grid_dims_[g]].values.size();
      if (++digits_[g] < n) return;
      digits_[g] = 0;
    }
    exhausted_ = true;
  }

  Space space_;
  uint64_t seed_;
  std::vector<size_t> grid_dims_;  // indices of the grid() domains, in space order
  std::vector<size_t> digits_;     // the next point: one value index per grid domain
  bool exhausted_ = false;
};

}  // namespace

std::unique_ptr<Searcher> make_grid_searcher(const Space& space, uint64_t seed) {
  return std::make_unique<GridSearcher>(space, seed);
}

}  // namespace mpitune
