// The HDF5 result file: one file per experiment, written by rank 0 only, readable while it grows.
//
// Writing: create_hdf5_store() creates the file (libver bounds "latest", as SWMR needs), begin()
// creates every dataset and writes the root attributes, then switches the file to SWMR
// (single writer, multiple readers) mode. From then on rows are only appended, or rewritten in
// place (a trial's row in /trials when its status changes; the one row of /summary; a job's
// row in /segments). open_hdf5_store_for_resume() reopens such a file for a later job, which
// appends after what is there. Readers (h5py, h5dump, `mpitune report`) see everything up to
// the last flush. The store flushes by itself at every decision, new trial or trial status
// change, PBT transfer, /final row and /segments row (a crash must not lose them; a flush costs
// microseconds), when it writes any other row (metrics, events, a trial's progress at a report)
// and its last flush is older than `flush_interval_s` (2 s), and whenever flush() is called.
// Rows wait in memory until then and are written table by table in one H5Dwrite each: rank 0
// absorbs a few hundred thousand results a second instead of ~20,000. There is no background thread: a
// writer that goes quiet after a metric row should call flush(). A file whose writer crashed
// stays readable up to its last flush. A flush writes each table's rows before its new extent,
// and a table whose rows cannot be written (a full disk) goes back to the rows already on disk
// before the InfraError is thrown: no reader ever sees a row that was not written whole.
// Events are not flushed at once (they are as frequent as metric rows; /segments rows are),
// but /events is flushed before every other table, so a file never holds a row caused by an
// event without the event.
//
// After a crash (kill -9, an out-of-memory kill, a dead node) the file holds everything up to
// the last flush, but its superblock still says "open for writing (SWMR)": SWMR readers open
// it (`mpitune report`, h5py with swmr=True), plain ones refuse it (h5dump, h5py without
// swmr=True: "file is already open for write (may use <h5clear file> to clear file
// consistency flags)") until `h5clear -s <file>` clears the mark (it changes nothing else).
// `mpitune run --resume` needs no h5clear: open_hdf5_store_for_resume clears the mark itself,
// and the resumed job's clean close leaves a file every reader opens.
//
// Schema (schema_version 4). Older files still read: version 1 lacks the model attributes, the
// parameter columns and the transfer payload (empty / 0); versions 1 and 2 lack everything
// marked "schema 3" below, read as: devices = world_size - 1, max_t 0, metric_step -1,
// retention_loss NaN, best_budget 0, best_any_trial -1, best_any_metric NaN, no /final or
// /final_documents rows, old_values/new_values of transfers empty; their integer
// hyperparameters, stored as float64 there, come back as ints; versions 1 to 3 have no
// /events and no /segments (read as none), and cannot be resumed. Each of these is read when
// present and defaulted when absent, whatever the version says. Times are seconds since the
// Unix epoch (float64); names ending in _s are durations in seconds. Strings in datasets are
// fixed-length, NUL-terminated UTF-8 (h5py returns them as bytes: decode with
// .decode("utf-8")); text longer than its column is cut at a UTF-8 character boundary. Every
// dataset is 1-D, chunked and extendible, with a compound row type (little-endian numbers).
// Missing numbers are NaN; "no trial" is -1.
//
//   /  attributes (scalars; strings are variable-length UTF-8, h5py returns str):
//      schema_version int32, mpitune_version, name, command_line, config_text (the final INI
//      text, overrides applied), seed uint64, metric ("eval_loss" | "train_loss"),
//      mode ("min" | "max"), scheduler, searcher, trainable ("gpt" | "synthetic"),
//      world_size int32 (all ranks, rank 0 included), group_size int32, num_groups int32,
//      devices int32 (schema 3: the accelerators the trials ran on, the worker ranks' GPUs on
//      CUDA, else the worker ranks; rank 0 never counts), device_kind ("cpu", "cuda:H100", ...),
//      max_t int64 (schema 3: the scheduler's full budget in steps), start_time float64,
//      model_init ("scratch" | "pretrained"), model_path (the Hugging Face folder), architecture
//      ("gpt2", "llama", "qwen2", ...: config.json's model_type), tokenizer (its description),
//      params_total int64, params_trainable int64 (of the base config's model), keep_dir (the
//      folder of the kept trials' final weights; "" when experiment.keep = none); the model
//      attributes are "" / 0 for synthetic objectives
//
//   /space  one row per hyperparameter, in [space] order
//      name S64, kind S16 ("uniform" | "loguniform" | "int" | "choice" | "grid"),
//      low float64, high float64 (NaN for choice/grid),
//      choices S (the values of choice/grid as written in a config, "8, 16, 32"; empty for ranges),
//      spec S (the whole domain, "loguniform(0.0001, 0.01)"; what the reader parses back)
//      (choices/spec are at least 256 bytes, wider when a domain needs it: never truncated)
//
//   /trials  one row per trial, in the order trials were first recorded; rewritten in place
//      id int64, parent int64 (PBT: the trial it was cloned from last; -1), group int32 (the
//      group that ran it last; -1), status S16 ("pending" | "running" | "paused" | "completed" |
//      "stopped" | "failed" | "early_stopped"),
//      <one column per hyperparameter, named after it, in [space] order>:
//          int64 for domains whose every value is an integer (int ranges, choice/grid of
//          integers; schema 3, float64 before), float64 for the other numeric ones, a
//          fixed-length string (>= 64 bytes, wide enough for the longest choice) for
//          choice/grid whose values include text; unset (a pending trial): NaN, "" or
//          INT64_MIN (-9223372036854775808),
//      start_time float64, end_time float64, last_step int64, best_metric float64 (best value of
//      the experiment metric in its mode), last_metric float64 (its last finite value),
//      metric_step int64 (schema 3: the step last_metric was reported at; -1: none yet),
//      device_seconds float64 (group size x wall seconds of its segments), reason S512 (why it
//      stopped or failed), params_total int64, params_trainable int64 (its model's; with LoRA
//      the adapters)
//
//   /metrics  one row per report of a trial
//      trial int64, step int64, time float64, train_loss float64, eval_loss float64 (NaN when not
//      evaluated), retention_loss float64 (schema 3: the mean loss on data.retention_corpus,
//      for forgetting; NaN when not evaluated), lr float64, tokens int64 (seen so far by the
//      trial), throughput float64 (tokens/s; steps/s for synthetic objectives), loss_scale
//      float64 (NaN unless fp16)
//
//   /decisions  one row per scheduler decision
//      time float64, trial int64, step int64, bracket int32, rung int32 (-1 when not
//      applicable), budget float64, action S16 ("start" | "continue" | "stop" | "pause" |
//      "resume" | "clone" | "complete" | "fail" | "early_stop" | "final_eval" | "retry"), reason S512
//
//   /pbt_transfers  one row per PBT exploit (state copied from one group to another)
//      time float64, source_trial int64, source_group int32 (the group that sent it; -1: read
//      from the paused source's checkpoint files), target_trial int64, target_group int32, step int64, bytes int64,
//      seconds float64, old_hparams S512, new_hparams S512 ("lr=0.001 batch_size=16"),
//      payload S16 ("model": weights and optimizer state; "adapters": LoRA's only, the frozen
//      base being shared by every trial),
//      via S16 (schema 4: "ranks" from the group training the source, "memory" a paused
//          source's copy in a group's host cache, "files" its checkpoint files; older files:
//          "ranks" when source_group >= 0, else "files"),
//      old.<name>, new.<name> (schema 3): the target's hyperparameters before and after, one
//          column each per hyperparameter in [space] order, typed as its /trials column
//
//   /groups  one row per trial group
//      group int32, ranks S1024 ("1,2"), hosts S1024 ("node01,node01"), devices S1024
//      ("cpu" or "cuda:0,cuda:1")
//
//   /summary  exactly one row, rewritten as the experiment goes
//      status S16 ("running" | "finished" | "interrupted" | "failed"), end_time float64,
//      elapsed_s float64, device_seconds float64 (world size x elapsed, rank 0 included),
//      trials int64, best_trial int64, best_metric float64 (the best final result at the
//      largest budget reached, by best_trial.hpp's rule), best_budget int64 (that budget: max_t
//      when any trial reached it), best_any_trial int64, best_any_metric float64 (the best value
//      at any step of any trial) (best_budget, best_any_*: schema 3)
//
//   /final  (schema 3) one row per evaluation on the test split when the search has ended;
//      empty until then (created with the others, as SWMR needs), flushed at once when written
//      label S64 ("best": the best trial's kept final weights, "retrain": the best
//      configuration trained again at max_t, "base": the model before tuning), trial int64
//      (-1 for base), step int64 (training steps behind the weights), hparams S512,
//      eval_loss float64 (on the validation windows), test_loss float64 (mean loss per counted
//      test token), test_ci_low float64, test_ci_high float64 (bootstrap 95% percentile
//      interval over test documents), test_documents int64, test_tokens int64, bootstrap int32
//      (resamples), retention_loss float64, seconds float64
//
//   /final_documents  (schema 3) one row per test document of each /final row, written with it
//      label S64 (its /final row's), document int64 (index in the test split), loss_sum float64
//      (summed over its counted tokens), tokens int64 (its counted tokens)
//
//   /events  (schema 4) every input of the coordinator's logic, in the order handled (what a
//      resumed job replays: coord/replay.hpp); one event in one or more consecutive rows
//      seq int64 (the event's number: 0, 1, 2, ... over all jobs, with no gap), time float64
//      (when it was handled), vtime int64 (deterministic mode's virtual time; -1 otherwise),
//      group int32 (-1: none), kind S16 ("message" | "budget" | "preempt" | "job"),
//      part int32 (0, 1, ...), parts int32 (the event's rows), size int32 (bytes of data used
//      in this row), data uint8[128] (the event's bytes, binary: a protocol message for
//      "message"; the unused rest of the row is zero). An event of n bytes takes
//      max(1, ceil(n / 128)) rows, each but the last full; its bytes are the rows' data[:size]
//      joined in part order (h5py: b"".join(bytes(r["data"][:r["size"]]) for r in rows)).
//      Binary data sits in a byte array, not a string column: a string would end at the first
//      NUL. One row (184 bytes) holds a typical message of about 100 bytes whole: 100,000
//      events are about 18 MB.
//
//   /segments  (schema 4) one row per job that ran the experiment (0: the first, then each
//      resume), rewritten in place as the job goes
//      index int64, start_time float64, end_time float64 (NaN while it runs, or when it died
//      without a word), status S16 ("running" | "finished" | "interrupted" | "aborted"),
//      elapsed_s float64 (its wall seconds so far), device_seconds float64 (world size x
//      elapsed_s, rank 0 included), world_size int32, group_size int32, num_groups int32,
//      devices int32 (as the root attribute, for this job), hosts S4096 (its ranks' hosts,
//      distinct, in rank order), command_line S4096, first_event int64 (the seq of its first
//      /events row), reason S512 (how it ended)
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

// Fixed string widths of the file, in bytes including the terminating NUL.
constexpr size_t kH5NameBytes = 64;     // /space name, /final and /final_documents label
constexpr size_t kH5KindBytes = 16;     // /space kind, statuses, actions
constexpr size_t kH5ReasonBytes = 512;  // reasons, hyperparameter texts of /pbt_transfers
constexpr size_t kH5GroupTextBytes = 1024;  // /groups ranks, hosts, devices
constexpr size_t kH5HParamTextBytes = 64;   // minimum width of a text hyperparameter column
constexpr size_t kH5SegmentTextBytes = 4096;  // /segments hosts, command_line
// Bytes of an event's data per /events row: a protocol message of about 100 bytes takes one row.
constexpr size_t kH5EventDataBytes = 128;

// Checks that a result file can be written at `path`, leaving nothing behind: it really
// creates and removes a probe file in the folder that will hold it (the first existing
// ancestor when that folder does not exist yet; no folder is made), because access(2) says
// "writable" to root for /proc or a read-only mount. Throws ConfigError("experiment.output",
// ...) when the file exists and `overwrite` is false, when it is a directory or not a regular
// file, when an existing one cannot be opened for writing, or when no file can be created
// there; InfraError when the probe cannot be removed.
void check_output_path(const std::string& path, bool overwrite);

// One job at a time per output. acquire(output) takes an exclusive, non-blocking flock(2) on
// "<output>.lock" (creating the output's folders and the file), writes its holder into it
// (pid, host, start time) and keeps it until release() or destruction, which remove the file.
// Rank 0 holds it for the whole run. A lock held by another job, or by another OutputLock of
// this process, is a ConfigError("experiment.output", "'X' is being written by another job
// (pid P on host H, since T)", "wait for it, or choose another output"). A lock file whose
// holder is gone (killed: the kernel dropped its lock) is taken over; stale_holder() then
// names the job that left it. Call it after check_output_path, before the store is created.
class OutputLock {
 public:
  OutputLock() = default;
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

  void acquire(const std::string& output);
  void release() noexcept;  // nothing when not held; problems removing the file are warnings
  bool held() const { return fd_ >= 0; }
  const std::string& lock_path() const { return lock_path_; }
  // "pid P on host H, since T" of a stale lock file taken over by acquire(); "" otherwise.
  const std::string& stale_holder() const { return stale_holder_; }

 private:
  std::string lock_path_;
  std::string stale_holder_;
  int fd_ = -1;
};

// Who writes `output` now, read from its lock file without keeping anything (OutputLock):
//  - None: no lock file (no job writes it; or a copy made without its lock file, or a file of an
//    mpitune before locks: a reader cannot tell whether such a file is still being written);
//  - Live: a job holds the lock: it is being written (holder: "pid P on host H, since T");
//  - Gone: the lock file is there but nobody holds its lock: the job that wrote it ended without
//    closing it (killed, its node lost, out of host memory), whatever its /summary still says.
// The probe takes a shared lock for an instant; OutputLock::acquire retries briefly, so a job
// that starts in that instant is not refused.
struct OutputWriter {
  enum class State { None, Live, Gone };
  State state = State::None;
  std::string holder;
};
OutputWriter probe_output_writer(const std::string& output);

// Throws ConfigError("space.<name>", ...) when a hyperparameter is named like a fixed column
// of /trials ("id", "status", ...). begin() checks it too; call it with check_output_path to
// fail before anything is written.
void check_result_columns(const Space& space);

struct Hdf5StoreOptions {
  // Metric and summary rows are flushed when the last flush is older than this; 0 flushes
  // after every row.
  double flush_interval_s = 2.0;
  // Decisions and trial status changes flush at once (a crash must not lose them); false: they
  // wait for the interval like metric rows. For `mpitune simulate`, whose hundreds of thousands
  // of decisions a second would otherwise spend most of their time in H5Dflush, and which a
  // crash simply reruns.
  bool flush_decisions = true;
};

// Creates the parent directories and the file (replacing an existing one only when
// `overwrite`). Throws ConfigError as check_output_path does, InfraError when HDF5 fails.
std::unique_ptr<ResultStore> create_hdf5_store(const std::string& path, bool overwrite,
                                               const Hdf5StoreOptions& options = {});

// Opens an existing result file of this schema version to continue its experiment (a resumed
// job): the store it returns is already begun (begin() throws) and appends after the rows
// every table holds, rewrites /trials rows by trial id and /segments rows by index (both maps
// rebuilt from the file), /summary's one row, and takes append_event() up at the seq after the
// file's last event. The file is read whole first, as read_hdf5_experiment does (the same
// checks, errors and warnings); rows that reader skips at a table's end (never written, or a
// partial event) are cut off before anything is appended. `existing`, when given, receives
// what was read (the events to replay), so that the file is not read twice.
// A file whose writer was killed still has its superblock marked "open for writing (SWMR)";
// the store clears the mark as it opens the file (what `h5clear -s` does), then writes in SWMR
// mode as create_hdf5_store does, and its close() leaves the file unmarked.
// Throws ConfigError(path, ...), one line: no such file, not an HDF5 file or not an mpitune
// result file, a schema_version other than kSchemaVersion ("written by schema N; it cannot be
// resumed: start a new experiment"), or another program holds the file open (HDF5's file
// lock: a writer that is not SWMR, or a reader that is not SWMR, such as h5dump or plain
// h5py). A live SWMR writer holds no HDF5 lock (it drops it so that readers can attach), so
// only OutputLock tells it from a dead one: hold the output's lock before calling this.
// InfraError when HDF5 fails.
std::unique_ptr<ResultStore> open_hdf5_store_for_resume(const std::string& path,
                                                        const Hdf5StoreOptions& options = {},
                                                        ExperimentData* existing = nullptr);

// Reads a whole result file, also one still being written (opened as an SWMR reader).
// Throws ConfigError(path, ...) when it does not exist, is not an mpitune result file, has a
// schema_version newer than kSchemaVersion, or holds something other than the schema (an
// attribute with several values or of another type, a table that is not 1-D rows of the
// schema's column types, more rows than the file can hold, a row that does not parse, a
// damaged global heap); InfraError when HDF5 fails (also on damaged metadata: a checksum that
// does not match, which an SWMR read retries for about 30 ms in all, not minutes). Every
// message is one line. A damaged file never hangs or crashes the reader (bench/result_fuzz).
// Rows a writer extended a table for but never wrote (all zero: a full disk, a crash), and a
// last row that does not parse, are skipped at the end of a table with one line on stderr
// per table: "mpitune: warning: <path>: /trials: skipped the last row, ...".
ExperimentData read_hdf5_experiment(const std::string& path);

// The longest prefix of `s` of at most `max_bytes` bytes that does not split a UTF-8 character.
std::string truncate_utf8(const std::string& s, size_t max_bytes);

}  // namespace mpitune
