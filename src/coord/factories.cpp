#include "mpitune/coord/factories.hpp"

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"

namespace mpitune {

std::unique_ptr<Scheduler> make_scheduler(const ExperimentConfig& cfg) {
  const auto& s = cfg.scheduler;
  if (s.type == "fifo") return make_fifo_scheduler(FifoOptions{s.max_t});
  if (s.type == "asha") {
    AshaOptions o;
    o.grace_period = s.grace_period;
    o.max_t = s.max_t;
    o.reduction_factor = s.reduction_factor;
    o.rule = s.asha_rule == "percentile" ? AshaOptions::Rule::Percentile : AshaOptions::Rule::TopK;
    return make_asha_scheduler(o);
  }
  throw ConfigError("scheduler.type", "'" + s.type + "' is not built in this version", "use asha or fifo");
}

std::unique_ptr<Searcher> make_searcher(const ExperimentConfig& cfg) {
  const uint64_t seed = derive_seed(cfg.experiment.seed, "searcher");
  if (cfg.search.type == "grid") return make_grid_searcher(cfg.space, seed);
  if (cfg.search.type == "random") return make_random_searcher(cfg.space, seed);
  throw ConfigError("search.type", "'" + cfg.search.type + "' is not built in this version", "use random or grid");
}

std::string method_name(const ExperimentConfig& cfg) { return cfg.scheduler.type + "+" + cfg.search.type; }

}  // namespace mpitune
