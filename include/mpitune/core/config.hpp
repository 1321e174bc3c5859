// The typed, validated configuration of one experiment, parsed from its INI text.
//
// Sections: [experiment] [space] [search] [scheduler] [model] [data] [train] [lora] [synthetic]
// [faults] [simulate]. Every key has a default; an unknown section or key, a value of the wrong type or out
// of range is a ConfigError naming "section.key" and the fix. Hyperparameters in [space] are
// named after keys of [train] or [model] (bare, "lr", or qualified, "train.lr") or of [lora]
// (qualified: "lora.rank") for the gpt trainable, and override them per trial (with_hparams),
// through the same parser as the file, so a trial's values are checked the same way.
#pragma once

#include <cstdint>
#include <optional>
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
  // Groups are laid out by node (comm/group_layout.hpp); true: consecutive world ranks instead.
  bool groups_span_nodes = false;
  std::string trainable = "gpt";             // gpt | synthetic
  double time_budget_s = 0;                  // wall-clock budget; 0 = none
  double status_interval_s = 10;             // live status table period
  // Decisions depend on the seed only, not on timing (coord/event_order.hpp); costs idle time.
  bool deterministic = false;
  // Sharded checkpoints of paused trials (Hyperband, PBT turn-taking); removed when a trial can
  // no longer resume. {output} is replaced by experiment.output (with {name} substituted).
  std::string checkpoint_dir = "{output}.ckpt";
  // Which trials' final weights the experiment keeps for `mpitune export` (best | all | none),
  // under {output}.keep/trial-<id>.
  std::string keep = "best";
  // The end of the search (final.hpp): the best configuration is evaluated once on the test
  // split (data.test_fraction or data.test_corpus; skipped when there is none): its kept final
  // weights, or with final_retrain a new training at max_t with seed final_seed. The test loss
  // gets a bootstrap 95% interval over test documents from final_eval_bootstrap resamples.
  bool final_retrain = false;
  uint64_t final_seed = 0;
  int final_eval_bootstrap = 1000;
  // Where the best trial's final weights are exported at the end (a Hugging Face or PEFT
  // folder; {output} and {name} substituted); "none": no export. `mpitune run --export DIR`.
  std::string export_dir = "{output}.best";
  // Surviving time limits (README, "Time limits and resume"). resume: auto (continue an output
  // whose experiment was interrupted and has this config; otherwise the overwrite rule), true
  // (continue it or fail), false (never continue). `mpitune run --resume` / `--no-resume`.
  std::string resume = "auto";
  // A busy group silent for this long (no report, no heartbeat) ends the job as aborted; 0: never.
  double heartbeat_timeout_s = 300;
  // Running trials also write a checkpoint this often (seconds of their segment), so a job
  // that dies resumes them from there rather than from their segment's start; 0: never.
  double checkpoint_interval_s = 0;
  // A trial that fails is tried again from its last checkpoint (or its start) up to this many
  // times (Ray Tune's max_failures); 0: a failure ends it.
  int max_failures_per_trial = 0;
};

struct SearchOptions {
  std::string type = "random";  // random | grid | bohb
  // Warm start: configurations tried first, in order, before the searcher's own (Ray Tune's
  // points_to_evaluate, Optuna's enqueue_trial). INI: "lr=3e-4, batch_size=16; lr=1e-3, ...":
  // configurations separated by ';', each a comma-separated list of name=value over [space]
  // names (every dimension given; values inside their domains).
  std::vector<HParams> initial_configs;
  std::string initial_configs_text;  // as written
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
  // Paused trials' states also stay in the host memory of the group that paused them (each rank
  // its share), up to this many MiB per rank: exploits and resumes copy them from there rank to
  // rank instead of reading checkpoint files. The files are still written (a paused trial must
  // survive the job: resume, keep). Beyond the budget a state is read from its files. 0: off.
  double pbt_host_cache_mb = 1024;
};

struct ModelOptions {
  std::string init = "scratch";      // scratch (random weights, the shape below) | pretrained
  std::string path;                  // pretrained: a Hugging Face model folder (config.json, safetensors); {cache}: mpitune_cache_dir()
  std::string architecture = "gpt2"; // scratch: gpt2 | llama (pretrained: config.json decides)
  // The shape of a scratch model (pretrained: from config.json; setting these is an error).
  int n_layer = 2;
  int n_head = 4;
  int n_kv_head = 0;     // llama: key/value heads (grouped-query attention); 0 = n_head
  int d_model = 64;
  int d_ff = 0;          // MLP width; 0 = 4 d_model (gpt2) or 8/3 d_model rounded up to 64 (llama)
  int seq_len = 64;      // context length in tokens (both kinds: the training windows)
  int vocab_size = 0;    // embedding rows; 0 = the tokenizer's vocabulary (256 for bytes)
};

struct DataOptions {
  std::string corpus = "/usr/share/games/fortunes";  // a text file or a folder (recursive), or JSONL
  std::string tokenizer = "auto";  // auto (the model folder's; bytes for scratch) | bytes | a folder
  std::string val_corpus;          // validation documents from here instead of a split of corpus
  std::string test_corpus;         // test documents from here instead of a split of corpus
  double val_fraction = 0.1;       // of the documents of corpus, chosen by a seeded permutation
  double test_fraction = 0;        // of the documents of corpus (never read during the search)
  uint64_t split_seed = 0;
  // How text files are cut into documents: "" = a file is one document; "blank" = blank lines
  // separate documents; "line" = every line is one; anything else = a line equal to it ("%" for
  // fortune files).
  std::string document_separator;
  std::string extensions;          // files of a folder read: "" = all but *.dat; else "txt, md, jsonl"
  std::string text_field = "text";               // JSONL
  std::string prompt_field = "prompt";           // JSONL prompt/completion: loss on the completion only
  std::string completion_field = "completion";
  // Paths under a folder corpus that its walk skips (comma-separated, relative to data.corpus:
  // files or folders), e.g. a held-out category.
  std::string exclude;
  // Forgetting: text the base model knew, evaluated at every eval point next to the metric
  // (/metrics retention_loss) and in the final evaluation; "" = none.
  std::string retention_corpus;
  std::string cache_dir;           // token files; "" = <folder of experiment.output>/.token-cache
  int eval_batches = 8;            // fixed validation batches (of train.batch_size sequences)
};

// LoRA adapters (Hu et al. 2021; PEFT's LoraConfig): rank 0 = full fine-tuning.
struct LoraOptions {
  int rank = 0;
  double alpha = 16;     // scale = alpha / rank
  double dropout = 0;    // on the adapter's input, in training only
  // attention | mlp | all-linear | a comma-separated list of module names (q_proj, v_proj, c_attn)
  std::string targets = "attention";
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
  // Early stopping inside a trial: after `patience` evaluations of the experiment's metric in a
  // row that do not improve on the trial's best by more than min_delta, the trial ends as
  // early_stopped (0 = off).
  int64_t early_stop_patience = 0;
  double early_stop_min_delta = 0;
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

// `mpitune simulate`: the cost model of the trainable in the discrete-event simulator
// (coord/cost_model.hpp has the formulas). Ignored by `mpitune run`.
struct SimulateOptions {
  int groups = 4;                  // simulated groups (--groups overrides)
  double step_seconds = 0;         // base seconds a step; 0: synthetic.step_cost_ms / 1000, or 1 when that is 0
  std::string step_seconds_per;    // "batch_size:0.01, n_layer*d_model:1e-5": + coef x product of hyperparameters
  double jitter = 0;               // relative: a step takes x (1 + jitter * u), u uniform in [-1, 1), seeded
  double straggler_fraction = 0;   // each group is a straggler with this probability (seeded) ...
  double straggler_factor = 1;     // ... and its steps take this many times longer
  double failure_probability = 0;  // each segment fails with this probability, at a seeded step inside it
  double state_gb = 0;             // a trial's state (weights + optimizer), for the two below
  double checkpoint_seconds_per_gb = 0;  // writing or reading a checkpoint
  double transfer_seconds_per_gb = 0;    // a PBT exploit's state copied between groups
  double round_trip_s = 0;         // from a group's answer to its next segment's start (the coordinator's round trip)
};

// Injected failures, to test that an experiment survives them.
struct FaultOptions {
  std::vector<int64_t> fail_trials;  // trial ids that fail
  int64_t fail_at_step = 1;          // at this step
  // throw | nan (a trial failure) | kill (SIGKILL to the rank: a dead rank, under mpirun the whole
  // job) | stop (SIGSTOP: a hung rank)
  std::string fail_mode = "throw";
  int fail_rank = -1;                // only this rank of the group fails; -1: every rank
  // How many times each trial fails (a transient fault, for experiment.max_failures_per_trial):
  // the first N times it reaches fail_at_step on this rank; 0: every time.
  int fail_attempts = 0;
  // This world rank fails by fail_mode while it starts, before its trainable exists (kill,
  // stop; throw and nan: an error that ends the job): a rank lost while loading the model.
  int startup_rank = -1;
};

struct ExperimentConfig {
  IniFile ini;  // the final text, overrides applied
  ExperimentOptions experiment;
  SearchOptions search;
  SchedulerOptions scheduler;
  ModelOptions model;
  DataOptions data;
  TrainOptions train;
  LoraOptions lora;
  SyntheticOptions synthetic;
  FaultOptions faults;
  SimulateOptions simulate;
  Space space;

  // experiment.output with {name} substituted.
  std::string output_path() const;
  // experiment.checkpoint_dir with {output} and {name} substituted.
  std::string checkpoint_root() const;
  // Where kept trials' final weights go: "<output>.keep".
  std::string keep_root() const { return output_path() + ".keep"; }
  // experiment.export_dir with {output} and {name} substituted; "" for "none".
  std::string export_root() const;
};

// mpitune's cache folder (the project's own base model lives there): $MPITUNE_CACHE, else
// $XDG_CACHE_HOME/mpitune, else $HOME/.cache/mpitune. "{cache}" in model.path stands for it.
std::string mpitune_cache_dir();

// Parses and validates everything that can be checked without touching MPI or the filesystem.
ExperimentConfig parse_config(const IniFile& ini);

// The config of one trial: [train]/[model] keys overridden by the trial's hyperparameters.
// Throws ConfigError when a value is invalid for its key (e.g. batch size not divisible).
ExperimentConfig with_hparams(const ExperimentConfig& base, const HParams& hp);

// The names a [space] may tune for the gpt trainable: keys of [train] and [model], bare and
// qualified ("lr", "train.lr"), and of [lora], qualified ("lora.rank").
std::vector<std::string> gpt_tunable_names();

struct HParamKey {
  std::string section;  // "train" | "model" | "lora"
  std::string key;
};
// The [section] key a [space] name of the gpt trainable sets: bare names are keys of [train] or
// [model]; qualified ones ("train.lr", "lora.rank") name their section. Empty when it names
// none, or a key no trial can change (device, threads, vocab_size, init, path, ...).
std::optional<HParamKey> gpt_hparam_key(const std::string& name);

}  // namespace mpitune
