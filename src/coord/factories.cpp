#include "mpitune/coord/factories.hpp"

#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "mpitune/sched/hyperband.hpp"
#include "mpitune/sched/pbt.hpp"

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
  if (s.type == "hyperband") {
    HyperbandOptions o;
    o.min_t = s.min_t;
    o.max_t = s.max_t;
    o.reduction_factor = s.reduction_factor;
    o.iterations = s.iterations;
    return make_hyperband_scheduler(o);
  }
  if (s.type == "pbt") {
    PbtOptions o;
    o.population = s.population;
    o.perturbation_interval = s.perturbation_interval;
    o.max_t = s.max_t;
    o.quantile_fraction = s.quantile_fraction;
    o.resample_probability = s.resample_probability;
    o.perturbation_factors = s.perturbation_factors;
    o.burn_in = s.burn_in;
    o.synchronous = s.synchronous;
    return make_pbt_scheduler(cfg.space, derive_seed(cfg.experiment.seed, "scheduler"), o);
  }
  throw ConfigError("scheduler.type", "'" + s.type + "' is unknown", "use asha, fifo, hyperband or pbt");
}

// The searcher the config names, without the warm start.
static std::unique_ptr<Searcher> make_base_searcher(const ExperimentConfig& cfg) {
  const uint64_t seed = derive_seed(cfg.experiment.seed, "searcher");
  if (cfg.search.type == "grid") return make_grid_searcher(cfg.space, seed);
  if (cfg.search.type == "random") return make_random_searcher(cfg.space, seed);
  if (cfg.search.type == "bohb") {
    BohbOptions o;
    o.min_points_in_model = cfg.search.min_points_in_model;
    o.top_n_percent = cfg.search.top_n_percent;
    o.num_samples = cfg.search.num_samples;
    o.random_fraction = cfg.search.random_fraction;
    o.bandwidth_factor = cfg.search.bandwidth_factor;
    o.min_bandwidth = cfg.search.min_bandwidth;
    return make_bohb_searcher(cfg.space, seed, o);
  }
  throw ConfigError("search.type", "'" + cfg.search.type + "' is unknown", "use random, grid or bohb");
}

// search.initial_configs (parsed by parse_config) go first, then the searcher's own proposals.
std::unique_ptr<Searcher> make_searcher(const ExperimentConfig& cfg) {
  return make_warm_start_searcher(make_base_searcher(cfg), cfg.search.initial_configs);
}

std::string method_name(const ExperimentConfig& cfg) { return cfg.scheduler.type + "+" + cfg.search.type; }

CoordinatorOptions coordinator_options(const ExperimentConfig& cfg, int num_groups, double start_time,
                                       const std::string& checkpoint_root) {
  CoordinatorOptions o;
  o.num_groups = num_groups;
  o.group_size = cfg.experiment.group_size;
  o.world_size = 1 + num_groups * cfg.experiment.group_size;
  o.max_trials = cfg.experiment.max_trials;
  o.time_budget_s = cfg.experiment.time_budget_s;
  o.seed = cfg.experiment.seed;
  o.mode = cfg.experiment.mode;
  o.metric = cfg.experiment.metric;
  o.start_time = start_time;
  o.checkpoint_root = checkpoint_root;
  // Kept weights are for `mpitune export`: models only.
  o.keep = cfg.experiment.trainable == "gpt" ? cfg.experiment.keep : "none";
  o.keep_root = cfg.keep_root();
  o.transfer_payload = cfg.lora.rank > 0 ? "adapters" : "model";
  o.early_stop_patience = cfg.train.early_stop_patience;
  o.max_failures_per_trial = cfg.experiment.max_failures_per_trial;
  o.checkpoint_interval_s = cfg.experiment.checkpoint_interval_s;
  o.host_cache = cfg.scheduler.type == "pbt" && cfg.scheduler.pbt_host_cache_mb > 0;
  o.early_stop_min_delta = cfg.train.early_stop_min_delta;
  // The test split exists (synthetic objectives draw theirs): one evaluation on it at the end.
  o.final_eval = cfg.data.test_fraction > 0 || !cfg.data.test_corpus.empty();
  o.final_base = o.final_eval && cfg.experiment.trainable == "gpt" && cfg.model.init == "pretrained";
  o.final_retrain = cfg.experiment.final_retrain;
  o.final_seed = cfg.experiment.final_seed;
  o.final_bootstrap = cfg.experiment.final_eval_bootstrap;
  // A synthetic objective's "weights" are its state file: kept for the final evaluation only.
  if (o.final_eval && cfg.experiment.trainable != "gpt" && !o.final_retrain) o.keep = "best";
  return o;
}

ExperimentInfo experiment_info(const ExperimentConfig& cfg, int num_groups, double start_time) {
  ExperimentInfo info;
  info.name = cfg.experiment.name;
  info.seed = cfg.experiment.seed;
  info.metric = cfg.experiment.metric;
  info.mode = cfg.experiment.mode == Mode::Min ? "min" : "max";
  info.scheduler = cfg.scheduler.type;
  info.searcher = cfg.search.type;
  info.trainable = cfg.experiment.trainable;
  info.group_size = cfg.experiment.group_size;
  info.num_groups = num_groups;
  info.world_size = 1 + num_groups * cfg.experiment.group_size;
  info.devices = num_groups * cfg.experiment.group_size;  // the run counts GPUs instead on CUDA
  info.max_t = cfg.scheduler.max_t;
  info.start_time = start_time;
  info.space = cfg.space;
  if (cfg.experiment.trainable == "gpt") {
    info.model_init = cfg.model.init;
    info.model_path = cfg.model.path;
    if (cfg.experiment.keep != "none") info.keep_dir = cfg.keep_root();
  }
  return info;
}

}  // namespace mpitune
