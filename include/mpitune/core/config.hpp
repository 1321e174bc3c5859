// The typed, validated configuration of one experiment, parsed from its INI text.
//
// Sections: [experiment] [space] [search] [scheduler] [model] [data] [train] [synthetic] [faults].
// Every key has a default; an unknown section or key, a value of the wrong type or out of range
// is a ConfigError naming "section.key" and the fix. Hyperparameters in [space] are named after
// keys of [train] or [model] (for the gpt trainable) and override them per trial (with_hparams),
// through the same parser as the file, so a trial's values are checked the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/hparams.hpp"
#include "mpitune/core/ini.hpp"
#include "mpitune/search/space.hpp"

namespace mpitune {

enum class Mode { Min, Max };

struct ExperimentOptions {
  std::string name = "experiment";
  uint64_t seed = 0;
  std::string metric = "eval_loss";  // eval_loss | train_loss
  Mode mode = Mode::Min;
  int64_t max_trials = 16;
  std::string output = "results/{name}.h5";  // {name} is replaced by the experiment name
  bool overwrite = false;                    // replace an existing result file
  int group_size = 1;                        // ranks per trial group (G)
  std::string trainable = "gpt";             // gpt | synthetic
  double time_budget_s = 0;                  // wall-clock budget; 0 = none
  double status_interval_s = 10;             // live status table period
  // Decisions depend on the seed only, not on timing (coord/event_order.hpp); costs idle time.
  bool deterministic = false;
  // Sharded checkpoints of paused trials (Hyperband, PBT turn-taking); removed when a trial can
  // no longer resume. {output} is replaced by experiment.output (with {name} substituted).
  std::string checkpoint_dir = "{output}.ckpt";
};

struct SearchOptions {
  std::string type = "random";  // random | grid | bohb
  // BOHB's KDE (HpBandSter's defaults; REFERENCES.md).
  int min_points_in_model = 0;  // 0: d + 1
  int top_n_percent = 15;
  int num_samples = 64;
  double random_fraction = 1.0 / 3;
  double bandwidth_factor = 3;
  double min_bandwidth = 1e-3;
};

struct SchedulerOptions {
  std::string type = "asha";     // asha | fifo | hyperband | pbt
  int64_t max_t = 81;            // full budget in optimizer steps
  int64_t grace_period = 1;      // ASHA's first milestone
  double reduction_factor = 3;   // eta (ASHA, Hyperband)
  std::string asha_rule = "topk";  // topk | percentile
  // Hyperband
  int64_t min_t = 1;             // r: the smallest budget
  int iterations = 1;            // sweeps over all brackets
  // PBT
  int population = 8;
  int64_t perturbation_interval = 10;
  double quantile_fraction = 0.25;
  double resample_probability = 0.25;
  std::vector<double> perturbation_factors{0.8, 1.2};
  int64_t burn_in = 0;
  bool synchronous = false;
};

struct ModelOptions {
  int n_layer = 2;
  int n_head = 4;
  int d_model = 64;
  int seq_len = 64;  // context length in bytes
  int vocab_size = 256;  // embedding rows; byte-level corpora need 256 (more only pads the table)
};

struct DataOptions {
  std::string corpus = "/usr/share/games/fortunes";  // a text file or a folder of them
  double val_fraction = 0.1;  // the last fraction of every file is held out
  int eval_batches = 8;       // fixed validation batches (of train.batch_size sequences)
};

struct TrainOptions {
  std::string device = "auto";    // auto | cpu | cuda
  std::string precision = "fp32"; // fp32 | bf16 | fp16 (fp16: CUDA only)
  int batch_size = 16;            // global batch in sequences = micro x accumulation x G
  int accumulation = 1;
  double lr = 1e-3;
  double weight_decay = 0.1;      // decoupled, on weights only (not biases or norms)
  int64_t warmup_steps = 10;      // linear warmup, then cosine decay to min_lr_ratio * lr
  double min_lr_ratio = 0.1;
  double grad_clip = 1.0;         // global-norm clipping; 0 = off
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  int64_t eval_interval = 0;      // evaluate every n steps as well as at segment ends; 0 = ends only
  int64_t log_interval = 10;      // send the training loss to rank 0 every n steps
  int threads = 0;                // intra-op threads per rank; 0 = cores / ranks on the node
  // The group's data plane: auto = NCCL for CUDA tensors in a CUDA build, else MPI; mpi forces
  // MPI (CUDA tensors staged through host memory: several ranks of a group on one GPU).
  std::string collectives = "auto";  // auto | mpi | nccl
};

struct SyntheticOptions {
  std::string objective = "learning_curve";  // learning_curve | hartmann6 | branin | counting_ones
  double step_cost_ms = 0;  // simulated cost of one step
  double noise = 0.1;       // learning_curve, hartmann6
  double bias = 0.5;        // hartmann6 fidelity bias
  int n_categorical = 0;    // counting_ones: the first n dimensions are the binary ones
};

// Injected failures, to test that an experiment survives them.
struct FaultOptions {
  std::vector<int64_t> fail_trials;  // trial ids that fail
  int64_t fail_at_step = 1;          // at this step
  std::string fail_mode = "throw";   // throw | nan
  int fail_rank = -1;                // only this rank of the group fails; -1: every rank
};

struct ExperimentConfig {
  IniFile ini;  // the final text, overrides applied
  ExperimentOptions experiment;
  SearchOptions search;
  SchedulerOptions scheduler;
  ModelOptions model;
  DataOptions data;
  TrainOptions train;
  SyntheticOptions synthetic;
  FaultOptions faults;
  Space space;

  // experiment.output with {name} substituted.
  std::string output_path() const;
  // experiment.checkpoint_dir with {output} and {name} substituted.
  std::string checkpoint_root() const;
};

// Parses and validates everything that can be checked without touching MPI or the filesystem.
ExperimentConfig parse_config(const IniFile& ini);

// The config of one trial: [train]/[model] keys overridden by the trial's hyperparameters.
// Throws ConfigError when a value is invalid for its key (e.g. batch size not divisible).
ExperimentConfig with_hparams(const ExperimentConfig& base, const HParams& hp);

// The names a [space] may tune for the gpt trainable (keys of [train] and [model]).
std::vector<std::string> gpt_tunable_names();

}  // namespace mpitune
