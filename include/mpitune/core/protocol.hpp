// Control-plane messages between the coordinator (rank 0) and the group leaders (DESIGN.md §3).
//
// Small, versioned, byte-encoded: [version u8][type u8][fields], integers and doubles in
// little-endian order, strings as u32 length + bytes. A message of another version is rejected
// with a clear error (all ranks of one job run the same binary, so this only guards against
// mixing builds on a cluster). Transport-free: the coordinator logic (core) speaks these
// messages, comm/channel.hpp moves them over MPI, and tests move them in memory.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "mpitune/core/hparams.hpp"

namespace mpitune {

using TrialId = int64_t;
constexpr uint8_t kProtocolVersion = 3;  // 2: retention loss, StopTrial.evaluate, FinalEval. 3: Preempt, Heartbeat, periodic checkpoints, host cache

// How a group initialises the trial of a segment.
enum class SegmentInit : uint8_t {
  Fresh = 0,     // new trial from scratch
  Continue = 1,  // the group already holds this trial at `start` (ASHA promotion)
  Resume = 2,    // load the trial's checkpoint (Hyperband, PBT turn-taking)
  Clone = 3,     // receive the state of `source_trial` from `source_group` (PBT exploit); the
                 // state may be newer than `start`: the segment then ends at
                 // min(stop + received step - start, max_steps)
};
const char* segment_init_name(SegmentInit i);

// Metrics of one report; NaN where not measured.
struct ReportMetrics {
  double train_loss = 0;
  double eval_loss = 0;
  double retention_loss = 0;  // on data.retention_corpus where eval_loss was measured; NaN: none
  double lr = 0;
  int64_t tokens = 0;       // tokens processed by the trial so far
  double throughput = 0;    // tokens per second over the interval (steps/s for synthetic)
  double loss_scale = 1;
};

struct ReadyMsg {
  int group = -1;
};

struct SegmentMsg {
  TrialId trial = -1;
  HParams hparams;
  int64_t start = 0;       // the step the trial is at when the segment begins
  int64_t stop = 0;        // train until this step, then report SegmentDone
  int64_t max_steps = 0;   // the full budget (LR schedule horizon)
  uint64_t seed = 0;       // the trial's seed
  SegmentInit init = SegmentInit::Fresh;
  TrialId source_trial = -1;  // Clone
  int source_group = -1;      // Clone
  std::string checkpoint;     // Resume: the checkpoint folder
  // Periodic checkpoints (experiment.checkpoint_interval_s): every this many seconds of the
  // segment, at a step boundary, the group writes the trial's checkpoint to
  // "<checkpoint_prefix><step>" and says so (PeriodicCheckpoint); 0: never.
  double checkpoint_every_s = 0;
  std::string checkpoint_prefix;
};

struct ReportMsg {
  int group = -1;
  TrialId trial = -1;
  int64_t step = 0;
  ReportMetrics metrics;
};

struct SegmentDoneMsg {
  int group = -1;
  TrialId trial = -1;
  int64_t step = 0;
  ReportMetrics metrics;
  double seconds = 0;        // wall seconds of the segment on the group
  bool interrupted = false;  // ended before `stop` because the coordinator asked (StopTrial)
};

struct TrialFailedMsg {
  int group = -1;
  TrialId trial = -1;
  int64_t step = 0;
  std::string reason;
  double seconds = 0;
};

// Coordinator -> leader, honoured at the next step boundary: end the running segment early.
// With `evaluate`, the group evaluates the trial at the step it reached before it reports
// SegmentDone (a trial stopped by the time budget gets its final evaluation).
struct StopTrialMsg {
  TrialId trial = -1;
  std::string reason;
  bool evaluate = false;
};

struct ShutdownMsg {
  std::string reason;
};

// Coordinator -> leader of an idle group that holds `trial`: write its sharded checkpoint to
// `dir` (every rank its part), then let it go. The trial is paused and may resume on any group
// of the same size.
struct CheckpointMsg {
  TrialId trial = -1;
  std::string dir;
  // Keep the state in the group's host cache too (scheduler.pbt_host_cache_mb), when it fits on
  // every rank: SendState then serves it from there.
  bool cache = false;
};

// Coordinator -> leader (honoured between segments and at step boundaries): the host cache's
// copy of `trial` is no longer needed.
struct ReleaseStateMsg {
  TrialId trial = -1;
};

// Leader -> coordinator: the checkpoint is complete on every rank of the group.
struct CheckpointDoneMsg {
  int group = -1;
  TrialId trial = -1;
  int64_t step = 0;
  double seconds = 0;
  int64_t cached_bytes = 0;  // the state is in the group's host cache too (its bytes on all ranks); 0: not
};

// Coordinator -> leader of the group that holds `trial` (PBT exploit): at the next step boundary
// (at once when idle), send the trial's whole training state to `target_group`, rank i to rank
// i, then go on. If the group no longer holds the trial it says so to the target instead, so
// the target never waits for nothing.
struct SendStateMsg {
  TrialId trial = -1;
  int target_group = -1;
  TrialId target_trial = -1;
};

// Leader of a clone's target -> coordinator: the state arrived (or did not: ok = false, and the
// target went on from its own state with the new hyperparameters).
struct StateReceivedMsg {
  int group = -1;
  TrialId trial = -1;         // the target
  TrialId source_trial = -1;
  int source_group = -1;      // -1 when the state came from a checkpoint
  int64_t step = 0;           // the step of the state received
  int64_t bytes = 0;          // on this group's ranks together
  double seconds = 0;
  bool ok = true;
  std::string reason;
};

// Coordinator -> leader of an idle group, once the search has ended: evaluate a model on the
// test split, document by document (Trainable::evaluate_test_documents), plus the validation
// and retention losses. The model: the checkpoint in `checkpoint` (a kept trial's final
// weights), or the trial the group holds (`held`: a final retrain just finished), or, when
// neither, the trial started fresh and untrained (the base model).
struct FinalEvalMsg {
  std::string label;          // "best" | "retrain" | "base"
  TrialId trial = -1;
  HParams hparams;
  uint64_t seed = 0;
  int64_t max_steps = 0;
  std::string checkpoint;
  bool held = false;
};

// Leader -> coordinator: the per-document test losses (ok = false: `reason` says why not).
struct FinalEvalDoneMsg {
  int group = -1;
  std::string label;
  TrialId trial = -1;
  int64_t step = 0;
  double eval_loss = 0;
  double retention_loss = 0;
  std::vector<double> doc_loss_sums;
  std::vector<int64_t> doc_tokens;
  double seconds = 0;
  bool ok = true;
  std::string reason;
};

// Coordinator -> leader, when the job must end soon (a Slurm time limit, SIGTERM): at the next
// step boundary (at once when idle), if the group holds `trial` (running or between segments),
// write its checkpoint to `dir` and answer Preempted; the segment is abandoned (no SegmentDone:
// the next job resumes it from this checkpoint). A group that holds nothing (or another trial)
// answers Preempted with ok = false. After Preempted the group only waits for Shutdown.
struct PreemptMsg {
  TrialId trial = -1;
  std::string dir;
};

// Leader -> coordinator: the answer to Preempt.
struct PreemptedMsg {
  int group = -1;
  TrialId trial = -1;
  int64_t step = 0;     // the step of the checkpoint written
  bool ok = false;      // a complete checkpoint of `trial` is in the Preempt's dir
  std::string reason;   // why not, when !ok
  double seconds = 0;   // wall seconds of the abandoned segment (from its start), plus the write
};

// Leader -> coordinator: a periodic checkpoint of the running trial is complete on every rank
// (the trial goes on training). A later job resumes the trial from the newest one.
struct PeriodicCheckpointMsg {
  int group = -1;
  TrialId trial = -1;
  int64_t step = 0;
  std::string dir;
  double seconds = 0;  // wall seconds of the write
};

// Leader -> coordinator, every few seconds while the group works (between and during steps):
// the group is alive. Any other message counts as one too.
struct HeartbeatMsg {
  int group = -1;
};

using Message = std::variant<ReadyMsg, SegmentMsg, ReportMsg, SegmentDoneMsg, TrialFailedMsg,
                             StopTrialMsg, ShutdownMsg, CheckpointMsg, CheckpointDoneMsg, SendStateMsg,
                             StateReceivedMsg, FinalEvalMsg, FinalEvalDoneMsg, PreemptMsg, PreemptedMsg,
                             HeartbeatMsg, PeriodicCheckpointMsg, ReleaseStateMsg>;

const char* message_name(const Message& m);

std::vector<uint8_t> encode(const Message& m);
// Throws InfraError on a truncated, unknown or wrong-version message.
Message decode(const uint8_t* data, size_t size);
inline Message decode(const std::vector<uint8_t>& bytes) { return decode(bytes.data(), bytes.size()); }

}  // namespace mpitune
