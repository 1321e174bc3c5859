// ResultStore: where the coordinator writes everything a user needs to analyse an experiment.
//
// One writer (rank 0). Rows are appended as events happen; a trial's row in /trials is updated
// in place when its status changes. The HDF5 implementation (hdf5_store.hpp) maps each record
// type to one dataset of the file; the schema below is the file's schema:
//
//   /            attributes: ExperimentInfo
//   /space       one row per hyperparameter: name, kind, low, high, choices
//   /trials      TrialRecord (one column per hyperparameter, named after it: int64 for domains
//                of integers, float64 for other numeric ones, fixed-length strings for text)
//   /metrics     MetricRecord
//   /decisions   DecisionRecord
//   /pbt_transfers TransferRecord
//   /groups      GroupRecord
//   /summary     one row: SummaryRecord, rewritten as the experiment goes
//   /final       FinalRecord: the one evaluation on the test split at the end (best, base, retrain)
//   /final_documents FinalDocumentRecord: per test document of each /final row, for bootstrap
//                intervals and paired comparisons between experiments
//   /events      EventRecord: every input of the coordinator's logic, in the order handled; a
//                resumed job replays them (coord/replay.hpp)
//   /segments    SegmentRecord: one row per job that ran the experiment (a first run, then
//                each resume)
//
// Times are seconds since the Unix epoch (float64) unless named *_s (durations).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "mpitune/core/hparams.hpp"
#include "mpitune/search/space.hpp"

namespace mpitune {

using TrialId = int64_t;

// 2: model, tokenizer and parameter counts; transfer payload. 3: early_stopped, retention_loss,
// metric_step, max_t and devices, best at full budget in /summary, /final, /final_documents.
// 4: /events and /segments (resume); /pbt_transfers via.
constexpr int kSchemaVersion = 4;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// EarlyStopped: the trial ended itself (train.early_stop_patience evaluations without an
// improvement of more than train.early_stop_min_delta); its last metric stands for its full budget.
enum class TrialStatus { Pending, Running, Paused, Completed, Stopped, Failed, EarlyStopped };
const char* trial_status_name(TrialStatus s);  // "pending", "running", ..., "early_stopped"
TrialStatus parse_trial_status(const std::string& s);

struct ExperimentInfo {
  int schema_version = kSchemaVersion;
  std::string mpitune_version;
  std::string name;
  std::string command_line;
  std::string config_text;
  uint64_t seed = 0;
  std::string metric;       // "eval_loss"
  std::string mode;         // "min" | "max"
  std::string scheduler;    // "asha", ...
  std::string searcher;     // "random", ...
  std::string trainable;    // "gpt" | "synthetic"
  int world_size = 0;
  int group_size = 0;
  int num_groups = 0;
  // Accelerators the trials ran on: the GPUs of the worker ranks on CUDA, else the worker ranks
  // (the coordinator, rank 0, is never counted). 0 in files of schema < 3: world_size - 1 then.
  int devices = 0;
  std::string device_kind;  // "cpu" | "cuda:H100" ...
  int64_t max_t = 0;        // the scheduler's full budget in steps (0 in files of schema < 3)
  double start_time = 0;
  // The model (gpt trainable; empty / 0 otherwise).
  std::string model_init;    // "scratch" | "pretrained"
  std::string model_path;    // the Hugging Face folder of a pretrained model
  std::string architecture;  // "gpt2" | "llama" (model_type of config.json: "llama", "qwen2", ...)
  std::string tokenizer;     // the tokenizer's one-line description
  int64_t params_total = 0;      // of the base config's model (trials may differ: /trials)
  int64_t params_trainable = 0;
  std::string keep_dir;      // where the kept trials' final weights are (experiment.keep)
  Space space;
};

struct TrialRecord {
  TrialId id = -1;
  TrialId parent = -1;  // PBT: the trial it was cloned from last; -1 if none
  int group = -1;       // the group that ran it last
  TrialStatus status = TrialStatus::Pending;
  HParams hparams;
  double start_time = kNaN;
  double end_time = kNaN;
  int64_t last_step = 0;
  double best_metric = kNaN;    // best value of the experiment metric seen (in its own sense)
  double last_metric = kNaN;    // the last finite value of the metric ...
  int64_t metric_step = -1;     // ... and the step it was reported at (-1: none yet)
  double device_seconds = 0;    // group size x wall seconds of its segments
  std::string reason;           // why it stopped or failed
  int64_t params_total = 0;     // parameters of its model (0 when not a model)
  int64_t params_trainable = 0; // of which trained (LoRA: the adapters)
};

struct MetricRecord {
  TrialId trial = -1;
  int64_t step = 0;
  double time = 0;            // wall clock when reported
  double train_loss = kNaN;
  double eval_loss = kNaN;    // NaN when not evaluated at this step
  double retention_loss = kNaN;  // mean loss on data.retention_corpus (forgetting); NaN: none
  double lr = kNaN;
  int64_t tokens = 0;         // tokens seen so far by the trial
  double throughput = kNaN;   // tokens (or steps, synthetic) per second over the last interval
  double loss_scale = kNaN;
};

struct DecisionRecord {
  double time = 0;
  TrialId trial = -1;
  int64_t step = 0;
  int bracket = -1;
  int rung = -1;
  double budget = kNaN;
  std::string action;  // "start", "continue", "stop", "pause", "resume", "clone", "complete", "fail",
                       // "early_stop", "final_eval", "retry"
  std::string reason;
};

struct TransferRecord {
  double time = 0;
  TrialId source_trial = -1;
  int source_group = -1;
  TrialId target_trial = -1;
  int target_group = -1;
  int64_t step = 0;
  int64_t bytes = 0;
  double seconds = 0;
  std::string old_hparams;  // HParams::to_string()
  std::string new_hparams;
  std::string payload;      // what moved: "model" (weights + optimizer state) | "adapters" (LoRA only)
  HParams old_values;       // old/new_hparams, typed: /pbt_transfers has a column per hyperparameter
  HParams new_values;
  // How (schema 4): "ranks" (from the group training the source), "memory" (a paused source's
  // copy in a group's host cache, scheduler.pbt_host_cache_mb), "files" (its checkpoint files).
  std::string via;
};

struct GroupRecord {
  int group = -1;
  std::string ranks;    // "1,2"
  std::string hosts;    // "node01,node01"
  std::string devices;  // "cpu" or "cuda:0,cuda:1"
  // Each rank's CPU set (sched_getaffinity), ranks separated by ';' since a set has commas:
  // "0-3;4-7" or "0,2;1,3". "" in files written before the column existed.
  std::string cpus{};  // (an initializer: older aggregate initializations of the record stay warning-free)
};

struct SummaryRecord {
  std::string status = "running";  // running | finished | interrupted | failed
  double end_time = kNaN;
  double elapsed_s = 0;
  double device_seconds = 0;       // world size x elapsed (rank 0 included)
  int64_t trials = 0;
  // The best trial by the rule of best_trial.hpp: the best final metric among the trials that
  // reached the largest budget (max_t when any did), and that budget.
  TrialId best_trial = -1;
  double best_metric = kNaN;
  int64_t best_budget = 0;
  // The best value at any step of any trial (what the live status shows).
  TrialId best_any_trial = -1;
  double best_any_metric = kNaN;
};

// One evaluation on the test split when the search has ended (experiment.final_eval).
struct FinalRecord {
  std::string label;      // "best" (the best trial's kept final weights), "retrain" (the best
                          // configuration trained again at max_t), "base" (the model before tuning)
  TrialId trial = -1;     // the trial whose configuration (and, for best, weights) it is
  int64_t step = 0;       // the steps of training behind the weights (0 for base)
  std::string hparams;    // HParams::to_string()
  double eval_loss = kNaN;       // on the validation windows, as during the search
  double test_loss = kNaN;       // mean loss per counted test token
  double test_ci_low = kNaN;     // bootstrap 95% interval over test documents (percentile)
  double test_ci_high = kNaN;
  int64_t test_documents = 0;
  int64_t test_tokens = 0;
  int bootstrap = 0;             // resamples behind the interval
  double retention_loss = kNaN;  // on data.retention_corpus; NaN without one
  double seconds = 0;            // wall seconds of the evaluation
};

// One test document of one /final row.
struct FinalDocumentRecord {
  std::string label;
  int64_t document = 0;  // index in the test split
  double loss_sum = 0;   // summed loss over the document's counted tokens
  int64_t tokens = 0;    // its counted tokens
};

// One input of the coordinator's logic (CoordinatorCore), logged before it is handled, so a
// later job can rebuild the coordinator's whole state (trials, scheduler, searcher) by handing
// the same inputs to a fresh one.
struct EventRecord {
  int64_t seq = 0;         // 0, 1, 2, ... over all jobs of the experiment
  double time = 0;         // the coordinator's clock when it was handled (seconds since the epoch)
  int64_t vtime = -1;      // deterministic mode: its virtual time (event_order.hpp); -1 otherwise
  int group = -1;          // the group it came from or concerns; -1: none
  std::string kind;        // "message" | "budget" | "preempt" | "job" (coord/replay.hpp)
  std::vector<uint8_t> data;  // "message": the protocol encoding; others: see coord/replay.hpp
};

// One job (run) of the experiment: the first, then each resume.
struct SegmentRecord {
  int64_t index = 0;           // 0 for the first job
  double start_time = 0;       // seconds since the epoch
  double end_time = kNaN;      // NaN while it runs (or when it died without a word)
  std::string status = "running";  // running | finished | interrupted | aborted
  double elapsed_s = 0;        // its wall seconds so far
  double device_seconds = 0;   // world size x elapsed_s (rank 0 included, as /summary)
  int world_size = 0;
  int group_size = 0;
  int num_groups = 0;
  int devices = 0;             // as ExperimentInfo::devices
  std::string hosts;           // the hosts of its ranks, distinct, in rank order: "node01,node02"
  std::string command_line;
  int64_t first_event = 0;     // the seq of its first /events row
  std::string reason;          // how it ended, in one line ("stop signal received", ...)
};

class ResultStore {
 public:
  virtual ~ResultStore() = default;
  // Creates every table; called once, before any other call.
  virtual void begin(const ExperimentInfo& info, const std::vector<GroupRecord>& groups) = 0;
  virtual void upsert_trial(const TrialRecord& t) = 0;
  virtual void append_metric(const MetricRecord& m) = 0;
  virtual void append_decision(const DecisionRecord& d) = 0;
  virtual void append_transfer(const TransferRecord& t) = 0;
  virtual void set_summary(const SummaryRecord& s) = 0;
  virtual void append_final(const FinalRecord& f, const std::vector<FinalDocumentRecord>& documents) = 0;
  virtual void append_event(const EventRecord& e) = 0;
  // Writes the row of segment `s.index` (appended when new, rewritten in place otherwise).
  virtual void set_segment(const SegmentRecord& s) = 0;
  // Makes everything so far visible to readers (SWMR) and durable.
  virtual void flush() = 0;
  // Final flush and close.
  virtual void close() = 0;
};

// Everything of one experiment, as read back (the HDF5 reader and the memory store give this).
struct ExperimentData {
  std::string path;  // the file it was read from ("" when not read from a file)
  ExperimentInfo info;
  std::vector<GroupRecord> groups;
  std::vector<TrialRecord> trials;
  std::vector<MetricRecord> metrics;
  std::vector<DecisionRecord> decisions;
  std::vector<TransferRecord> transfers;
  SummaryRecord summary;
  std::vector<FinalRecord> finals;
  std::vector<FinalDocumentRecord> final_documents;
  std::vector<EventRecord> events;      // schema 4; empty in older files
  std::vector<SegmentRecord> segments;  // schema 4; empty in older files
};

// In-memory store for tests and the simulator.
class MemoryStore : public ResultStore {
 public:
  MemoryStore() = default;
  // Starts from what a file already holds (a resumed simulation).
  explicit MemoryStore(ExperimentData data) : data_(std::move(data)) {}
  void begin(const ExperimentInfo& info, const std::vector<GroupRecord>& groups) override;
  void upsert_trial(const TrialRecord& t) override;
  void append_metric(const MetricRecord& m) override;
  void append_decision(const DecisionRecord& d) override;
  void append_transfer(const TransferRecord& t) override;
  void set_summary(const SummaryRecord& s) override;
  void append_final(const FinalRecord& f, const std::vector<FinalDocumentRecord>& documents) override;
  void append_event(const EventRecord& e) override;
  void set_segment(const SegmentRecord& s) override;
  void flush() override {}
  void close() override {}
  const ExperimentData& data() const { return data_; }

 private:
  ExperimentData data_;
  // trial id -> its index in data_.trials (a simulation upserts a row at every report, of up to
  // a million trials: a scan made that quadratic)
  std::unordered_map<TrialId, size_t> trial_index_;
};

}  // namespace mpitune
