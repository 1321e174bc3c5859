// Searcher: proposes hyperparameter configurations (what to try).
//
// The searcher never decides how long a trial runs; that is the Scheduler's job. The
// coordinator asks suggest() when it starts a new trial and reports every rung or interval
// result through observe(), which BOHB's KDE learns from (random and grid ignore it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mpitune/core/hparams.hpp"
#include "mpitune/search/space.hpp"

namespace mpitune {

using TrialId = int64_t;

class Searcher {
 public:
  virtual ~Searcher() = default;
  virtual std::string name() const = 0;
  // A configuration for trial `id`, or nullopt when the searcher has nothing more to propose
  // (a finished grid). `budget` is the step the trial will first run to (BOHB models per budget).
  virtual std::optional<HParams> suggest(TrialId id, double budget) = 0;
  // The loss (lower is better; +inf for failed trials) of trial `id` at `budget` steps.
  virtual void observe(TrialId id, const HParams& hp, double budget, double loss) {
    (void)id, (void)hp, (void)budget, (void)loss;
  }
};

// Uniform random sampling; trial i draws from derive_seed(seed, "search", i), so what it gets
// does not depend on the order in which trials are created.
std::unique_ptr<Searcher> make_random_searcher(const Space& space, uint64_t seed);
// The Cartesian product of every grid() domain, in space order (the last varies fastest);
// the other domains are sampled as the random searcher does. Ends after the last grid point.
std::unique_ptr<Searcher> make_grid_searcher(const Space& space, uint64_t seed);

// BOHB's model-based sampler (Falkner et al. 2018), HpBandSter's defaults (REFERENCES.md). The
// model and its exact rules are in search/kde.hpp.
struct BohbOptions {
  int min_points_in_model = 0;        // 0, or anything below d + 1, means d + 1 (d = dimensions)
  int top_n_percent = 15;             // percent of a budget's results that form the good set
  int num_samples = 64;               // candidates drawn around good points per suggestion
  double random_fraction = 1.0 / 3;   // share of suggestions sampled uniformly anyway
  double bandwidth_factor = 3;        // widens the good KDE's bandwidth when drawing candidates
  double min_bandwidth = 1e-3;        // floor of every bandwidth (keeps diversity)
};
// Observations arrive through observe() (per budget); trial i's suggestion draws from
// derive_seed(seed, "bohb", i), so it depends on the trial id and the observations so far only.
// Works under any scheduler (ASHA, Hyperband, FIFO): it only sees suggest() and observe().
std::unique_ptr<Searcher> make_bohb_searcher(const Space& space, uint64_t seed, const BohbOptions& o);

// Warm start (Ray Tune's points_to_evaluate, Optuna's enqueue_trial): the first initial.size()
// calls to suggest() return `initial` in order, whatever the trial ids; later calls, and their
// budget, go to `inner` (a grid then starts at its first point). observe() always reaches
// `inner`, so BOHB learns from the warm-start trials too. name() is inner's. With no initial
// configurations it returns `inner` itself.
std::unique_ptr<Searcher> make_warm_start_searcher(std::unique_ptr<Searcher> inner, std::vector<HParams> initial);

// Parses [search] initial_configs: configurations separated by ';', each a comma-separated
// list of name=value over the [space] names, e.g. "lr=3e-4, batch_size=16; lr=1e-3,
// batch_size=32". Every dimension must be given and every value must lie in its domain (ints
// whole, choices one of the choices, ranges inside their bounds, both ends included); values
// come back typed as the domain's own and in space order. "" gives none. Throws
// ConfigError("search.initial_configs", ...) naming the configuration (1-based) and the name.
// (In an INI file a ";" starts a comment only at the start of a line.)
std::vector<HParams> parse_initial_configs(const Space& space, const std::string& text);

}  // namespace mpitune
