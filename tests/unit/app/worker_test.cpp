// The worker loop of a one-rank group in one process: an in-memory channel plays the
// coordinator (orders in, answers recorded), GroupControl of a single rank makes no MPI call,
// and a small scripted trainable stands for the model. It checks Preempt while training and
// while idle, a checkpoint that cannot be written, and heartbeats during a step that blocks.
#include "mpitune/runtime/worker.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <cstring>
#include <mutex>

#include "mpitune/core/error.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

constexpr TrialId kTrial = 7;

// The coordinator's side of the control plane, in memory. Thread-safe: a heartbeat thread
// sends while the worker polls. `on_send` runs for every message the worker sends (outside
// the lock) and may queue the coordinator's next orders, so a test can answer "at step 4".
class FakeChannel final : public Channel {
 public:
  std::function<void(const Message&, FakeChannel&)> on_send;

  void push(const Message& m) {
    std::lock_guard<std::mutex> lock(mutex_);
    inbox_.push_back(m);
  }
  void send(int dest, const Message& m) override {
    EXPECT_EQ(dest, 0);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      sent_.push_back(m);
    }
    changed_.notify_all();
    if (on_send) on_send(m, *this);
  }
  std::optional<Envelope> poll(int source) override {
    EXPECT_EQ(source, 0);
    std::lock_guard<std::mutex> lock(mutex_);
    if (inbox_.empty()) {
      // A worker that waits for an order nobody will send would hang the test: fail it instead.
      const auto now = std::chrono::steady_clock::now();
      if (!empty_since_) empty_since_ = now;
      if (now - *empty_since_ > std::chrono::seconds(30)) throw InfraError("the test sent no more orders");
      return std::nullopt;
    }
    empty_since_.reset();
    Envelope e{0, inbox_.front()};
    inbox_.pop_front();
    return e;
  }
  void drain() override {}

  // The messages sent so far, heartbeats left out (their number depends on timing).
  std::vector<Message> answers() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Message> out;
    for (const auto& m : sent_)
      if (!std::holds_alternative<HeartbeatMsg>(m)) out.push_back(m);
    return out;
  }
  int heartbeats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    int n = 0;
    for (const auto& m : sent_) n += std::holds_alternative<HeartbeatMsg>(m);
    return n;
  }
  bool wait_for_heartbeat(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (const auto& m : sent_)
        if (std::holds_alternative<HeartbeatMsg>(m)) return true;
      return false;
    });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Message> inbox_;
  std::vector<Message> sent_;
  std::optional<std::chrono::steady_clock::time_point> empty_since_;
};

// Counts steps; a checkpoint is a folder with a file holding the step. `during_step` (if set)
// runs inside train_step, for a step that takes as long as the test wants.
class CountingTrainable final : public Trainable {
 public:
  std::function<void(int64_t step)> during_step;

  void start(int64_t, const HParams&, uint64_t, int64_t) override { step_ = 0, holds_ = true; }
  int64_t step() const override { return step_; }
  StepResult train_step() override {
    if (during_step) during_step(step_ + 1);
    ++step_;
    StepResult r;
    r.loss = 10.0 / static_cast<double>(step_);
    return r;
  }
  double evaluate() override { return 1.0; }
  void release() override { holds_ = false; }
  void save_checkpoint(const std::string& dir) override {
    MPITUNE_CHECK(holds_, "checkpoint of a released trial");
    std::filesystem::create_directories(dir);  // throws when `dir` cannot be made
    std::ofstream(dir + "/step") << step_;
  }
  void load_checkpoint(const std::string& dir, int64_t, const HParams&) override {
    std::ifstream(dir + "/step") >> step_;
    holds_ = true;
    ++file_loads;
  }
  // The state is the step, as 8 bytes.
  std::vector<uint8_t> save_state() override {
    MPITUNE_CHECK(holds_, "state of a released trial");
    std::vector<uint8_t> b(sizeof step_);
    std::memcpy(b.data(), &step_, sizeof step_);
    return b;
  }
  void load_state(const std::vector<uint8_t>& bytes, int64_t, const HParams&) override {
    MPITUNE_CHECK(bytes.size() == sizeof step_, "a state of " + std::to_string(bytes.size()) + " bytes");
    std::memcpy(&step_, bytes.data(), sizeof step_);
    holds_ = true;
    ++state_loads;
  }
  int file_loads = 0, state_loads = 0;

 private:
  int64_t step_ = 0;
  bool holds_ = false;
};

int64_t checkpoint_step(const std::string& dir) {
  std::ifstream f(dir + "/step");
  int64_t step = -1;
  f >> step;
  return step;
}

SegmentMsg fresh_segment(int64_t stop) {
  SegmentMsg s;
  s.trial = kTrial, s.start = 0, s.stop = stop, s.max_steps = 100, s.init = SegmentInit::Fresh;
  return s;
}

class WorkerTest : public ::testing::Test {
 protected:
  WorkerTest() {
    cfg.train.log_interval = 2;
    cfg.train.eval_interval = 0;
    cfg.experiment.heartbeat_timeout_s = 0;  // no heartbeats unless a test asks
  }
  void run_worker(HeartbeatMode mode = HeartbeatMode::StepBoundaries) {
    GroupControl control(MPI_COMM_NULL);            // one rank: no MPI
    StateTransfer transfer(MPI_COMM_NULL, topo);    // never used by these tests
    Worker worker(cfg, topo, control, channel, transfer, trainable, mode);
    worker.run();
  }
  template <class T>
  std::vector<T> sent() const {
    std::vector<T> out;
    for (const auto& m : channel.answers())
      if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    return out;
  }

  testing::TempDir dir{"mpitune-worker"};
  ExperimentConfig cfg;
  Topology topo = make_topology(1, 2, 1);  // world rank 1 of 2: group 0's leader
  FakeChannel channel;
  CountingTrainable trainable;
};

TEST_F(WorkerTest, PreemptDuringASegmentWritesTheCheckpointAtTheNextStepAndAbandonsTheSegment) {
  const std::string ckpt = dir.file("trial-7");
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (auto* r = std::get_if<ReportMsg>(&m); r && r->step == 4) c.push(PreemptMsg{kTrial, ckpt});
    if (std::holds_alternative<PreemptedMsg>(m)) c.push(ShutdownMsg{"time limit"});
  };
  channel.push(fresh_segment(20));
  run_worker();

  const auto answers = channel.answers();
  ASSERT_EQ(answers.size(), 4u);  // Ready, Report 2, Report 4, Preempted
  EXPECT_TRUE(std::holds_alternative<ReadyMsg>(answers[0]));
  const auto preempted = sent<PreemptedMsg>();
  ASSERT_EQ(preempted.size(), 1u);
  EXPECT_TRUE(preempted[0].ok) << preempted[0].reason;
  EXPECT_EQ(preempted[0].group, 0);
  EXPECT_EQ(preempted[0].trial, kTrial);
  EXPECT_EQ(preempted[0].step, 4);
  EXPECT_GE(preempted[0].seconds, 0);
  EXPECT_TRUE(sent<SegmentDoneMsg>().empty());  // the next job resumes the segment
  EXPECT_EQ(checkpoint_step(ckpt), 4);
  EXPECT_EQ(trainable.step(), 4);  // it stopped training there
}

TEST_F(WorkerTest, PreemptForAnotherTrialRefusesWritesNothingAndKeepsTheHeldState) {
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (auto* r = std::get_if<ReportMsg>(&m); r && r->step == 2) c.push(PreemptMsg{99, dir.file("trial-99")});
    if (auto* p = std::get_if<PreemptedMsg>(&m)) {
      // Idle now, still holding trial 7 at step 2: a Preempt for it is served.
      if (p->trial == 99) c.push(PreemptMsg{kTrial, dir.file("trial-7")});
      else c.push(ShutdownMsg{});
    }
  };
  channel.push(fresh_segment(20));
  run_worker();

  const auto preempted = sent<PreemptedMsg>();
  ASSERT_EQ(preempted.size(), 2u);
  EXPECT_FALSE(preempted[0].ok);
  EXPECT_EQ(preempted[0].trial, 99);
  EXPECT_EQ(preempted[0].reason, "this group holds trial 7");
  EXPECT_FALSE(std::filesystem::exists(dir.file("trial-99")));
  EXPECT_TRUE(preempted[1].ok) << preempted[1].reason;
  EXPECT_EQ(preempted[1].step, 2);
  EXPECT_EQ(checkpoint_step(dir.file("trial-7")), 2);
  EXPECT_TRUE(sent<SegmentDoneMsg>().empty());
}

TEST_F(WorkerTest, IdlePreemptServesTheTrialHeldBetweenSegmentsThenHoldsNothing) {
  int answered = 0;
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (std::holds_alternative<SegmentDoneMsg>(m)) c.push(PreemptMsg{kTrial, dir.file("a")});
    if (std::holds_alternative<PreemptedMsg>(m)) {
      if (++answered == 1) c.push(PreemptMsg{kTrial, dir.file("b")});
      else c.push(ShutdownMsg{});
    }
  };
  channel.push(fresh_segment(4));
  run_worker();

  ASSERT_EQ(sent<SegmentDoneMsg>().size(), 1u);
  EXPECT_EQ(sent<SegmentDoneMsg>()[0].step, 4);
  const auto preempted = sent<PreemptedMsg>();
  ASSERT_EQ(preempted.size(), 2u);
  EXPECT_TRUE(preempted[0].ok) << preempted[0].reason;
  EXPECT_EQ(preempted[0].step, 4);
  EXPECT_EQ(checkpoint_step(dir.file("a")), 4);
  // The first answer let the trial go: the second finds nothing to write.
  EXPECT_FALSE(preempted[1].ok);
  EXPECT_EQ(preempted[1].reason, "this group holds no trial");
  EXPECT_FALSE(std::filesystem::exists(dir.file("b")));
}

TEST_F(WorkerTest, ACheckpointThatCannotBeWrittenIsARefusalWithItsReasonNotATrialFailure) {
  testing::write_file(dir.file("plain-file"), "x");
  const std::string impossible = dir.file("plain-file") + "/trial-7";  // a folder under a file
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (auto* r = std::get_if<ReportMsg>(&m); r && r->step == 2) c.push(PreemptMsg{kTrial, impossible});
    if (std::holds_alternative<PreemptedMsg>(m)) c.push(ShutdownMsg{});
  };
  channel.push(fresh_segment(20));
  run_worker();

  const auto preempted = sent<PreemptedMsg>();
  ASSERT_EQ(preempted.size(), 1u);
  EXPECT_FALSE(preempted[0].ok);
  EXPECT_EQ(preempted[0].reason.rfind("checkpoint failed: ", 0), 0u) << preempted[0].reason;
  EXPECT_GT(preempted[0].reason.size(), std::string("checkpoint failed: ").size());
  EXPECT_TRUE(sent<TrialFailedMsg>().empty());
  EXPECT_TRUE(sent<SegmentDoneMsg>().empty());
}

TEST_F(WorkerTest, TheHeartbeatThreadBeatsDuringAStepThatBlocks) {
  // heartbeat_timeout_s = 10: a beat every second (the shortest period). Step 3 blocks until a
  // heartbeat arrived, which only the thread can send while the main thread is inside the step;
  // ~1 s, the shortest period.
  cfg.experiment.heartbeat_timeout_s = 10;
  bool beat_during_step = false;
  int beats_at_shutdown = -1;
  trainable.during_step = [&](int64_t step) {
    if (step == 3) beat_during_step = channel.wait_for_heartbeat(std::chrono::seconds(20));
  };
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (!std::holds_alternative<SegmentDoneMsg>(m)) return;
    beats_at_shutdown = c.heartbeats();
    c.push(ShutdownMsg{});
  };
  channel.push(fresh_segment(4));
  run_worker(HeartbeatMode::Thread);

  EXPECT_TRUE(beat_during_step);
  EXPECT_GE(beats_at_shutdown, 1);
  for (const auto& m : channel.answers()) EXPECT_FALSE(std::holds_alternative<HeartbeatMsg>(m));
  EXPECT_EQ(sent<SegmentDoneMsg>().size(), 1u);
}

TEST_F(WorkerTest, BelowThreadMultipleOnlyTheMainThreadBeatsAtStepBoundaries) {
  // No thread may call MPI next to the main thread: while step 2 blocks (a little over the
  // 1 s period) no heartbeat goes out; the next step boundary sends the one that is due.
  cfg.experiment.heartbeat_timeout_s = 10;
  cfg.train.log_interval = 100;  // no reports: they would count as liveness and make a beat due later
  bool beat_during_step = true;
  int beats_at_end = -1;
  trainable.during_step = [&](int64_t step) {
    if (step == 2) beat_during_step = channel.wait_for_heartbeat(std::chrono::milliseconds(1100));
  };
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (!std::holds_alternative<SegmentDoneMsg>(m)) return;
    beats_at_end = c.heartbeats();
    c.push(ShutdownMsg{});
  };
  channel.push(fresh_segment(4));
  run_worker(HeartbeatMode::StepBoundaries);

  EXPECT_FALSE(beat_during_step);
  EXPECT_EQ(beats_at_end, 1);  // after step 2; steps 3 and 4 came within the period
}

TEST_F(WorkerTest, APreemptBetweenReportsWaitsForTheNextReportBoundary) {
  // log_interval 2: a Preempt seen after step 3 is honoured after step 4, once step 4's report
  // is out, so the resumed trial's report intervals are the uninterrupted run's.
  const std::string ckpt = dir.file("trial-7");
  trainable.during_step = [&](int64_t step) {
    if (step == 3) channel.push(PreemptMsg{kTrial, ckpt});
  };
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (std::holds_alternative<PreemptedMsg>(m)) c.push(ShutdownMsg{});
  };
  channel.push(fresh_segment(20));
  run_worker();

  const auto preempted = sent<PreemptedMsg>();
  ASSERT_EQ(preempted.size(), 1u);
  EXPECT_TRUE(preempted[0].ok) << preempted[0].reason;
  EXPECT_EQ(preempted[0].step, 4);
  EXPECT_EQ(checkpoint_step(ckpt), 4);
  const auto reports = sent<ReportMsg>();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports.back().step, 4);
}

TEST_F(WorkerTest, APausedStateInTheHostCacheResumesFromMemoryAndOnlyOnce) {
  cfg.scheduler.pbt_host_cache_mb = 1;
  SegmentMsg back;  // the trial's own resume from this group's cache
  back.trial = kTrial, back.source_trial = kTrial, back.source_group = 0, back.init = SegmentInit::Clone;
  back.start = 4, back.stop = 6, back.max_steps = 100, back.checkpoint = dir.file("trial-7");
  int done = 0;
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (std::holds_alternative<SegmentDoneMsg>(m) && ++done == 1) c.push(CheckpointMsg{kTrial, back.checkpoint, true});
    if (std::holds_alternative<CheckpointDoneMsg>(m) && done == 1) c.push(back);
    if (std::holds_alternative<SegmentDoneMsg>(m) && done == 2) {
      // The copy moved out with the resume: a second one falls back to the checkpoint files.
      c.push(CheckpointMsg{kTrial, dir.file("elsewhere")});
    }
    if (std::holds_alternative<CheckpointDoneMsg>(m) && done == 2) c.push(ShutdownMsg{});
  };
  channel.push(fresh_segment(4));
  run_worker();

  const auto ckpts = sent<CheckpointDoneMsg>();
  ASSERT_EQ(ckpts.size(), 2u);
  EXPECT_EQ(ckpts[0].cached_bytes, 8);  // kept in memory (the files were written too)
  EXPECT_EQ(ckpts[1].cached_bytes, 0);  // not asked to
  EXPECT_EQ(checkpoint_step(back.checkpoint), 4);
  const auto received = sent<StateReceivedMsg>();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0].ok);
  EXPECT_EQ(received[0].source_group, 0);  // from memory, not files (-1)
  EXPECT_EQ(received[0].step, 4);
  EXPECT_EQ(trainable.state_loads, 1);
  EXPECT_EQ(trainable.file_loads, 0);
  const auto segments = sent<SegmentDoneMsg>();
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[1].step, 6);
}

TEST_F(WorkerTest, ACloneFromTheCacheThatIsNotThereReadsTheCheckpointFiles) {
  cfg.scheduler.pbt_host_cache_mb = 1;
  std::filesystem::create_directories(dir.file("trial-7-files"));
  std::ofstream(dir.file("trial-7-files/step")) << 4;
  SegmentMsg back;
  back.trial = kTrial, back.source_trial = kTrial, back.source_group = 0, back.init = SegmentInit::Clone;
  back.start = 4, back.stop = 5, back.max_steps = 100, back.checkpoint = dir.file("trial-7-files");
  channel.on_send = [&](const Message& m, FakeChannel& c) {
    if (std::holds_alternative<SegmentDoneMsg>(m)) c.push(ShutdownMsg{});
  };
  channel.push(back);
  run_worker();

  const auto received = sent<StateReceivedMsg>();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0].ok);
  EXPECT_EQ(received[0].source_group, -1);  // from the files
  EXPECT_EQ(trainable.file_loads, 1);
  EXPECT_EQ(trainable.state_loads, 0);
  ASSERT_EQ(sent<SegmentDoneMsg>().size(), 1u);
  EXPECT_EQ(sent<SegmentDoneMsg>()[0].step, 5);
}

}  // namespace
}  // namespace mpitune
