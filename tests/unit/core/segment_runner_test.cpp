// The segment runner in one process, through a recording port with a hand-driven clock: what a
// group reports, when it evaluates, how a stop, a failing step, another rank's failure and an
// injected failure end a segment, and the tokens, throughput and seconds it sends. The MPI
// worker and the simulator both run segments through it (their own tests cover the rest).
#include "mpitune/core/segment_runner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

// A trainable whose step `s` has loss `s` and 100 tokens; its evaluation is 1000 + the step.
class CountingTrainable final : public Trainable {
 public:
  int64_t throw_at = -1;      // train_step() to this step throws
  int64_t nan_at = -1;        // ... returns a NaN loss
  int64_t evaluations = 0;
  bool released = false;
  int64_t tokens_per_step = 100;
  void start(int64_t, const HParams&, uint64_t, int64_t) override { step_ = 0; }
  int64_t step() const override { return step_; }
  StepResult train_step() override {
    ++step_;
    if (step_ == throw_at) throw TrialError("the step blew up");
    StepResult r;
    r.loss = step_ == nan_at ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(step_);
    r.tokens = tokens_per_step;
    r.lr = 0.5;
    return r;
  }
  double evaluate() override {
    ++evaluations;
    return 1000.0 + static_cast<double>(step_);
  }
  void release() override { released = true; }
  void set_step(int64_t s) { step_ = s; }

 private:
  int64_t step_ = 0;
};

// Records what is sent; the clock moves only when the test says; `other_rank_fails_at`
// plays another rank of the group whose step fails.
class RecordingPort final : public SegmentPort {
 public:
  double clock = 0;
  std::vector<Message> sent;
  int64_t inject_at = -1;
  int agreements = 0;
  int other_rank_fails_after = -1;  // the agreement after which another rank fails
  double now() override { return clock; }
  void send(const Message& m) override { sent.push_back(m); }
  std::optional<std::string> agree_failure(const std::optional<std::string>& err) override {
    ++agreements;
    if (!err && agreements == other_rank_fails_after) return std::string("rank 1: out of memory");
    return err;
  }
  std::optional<std::string> injected_failure(int64_t step) override {
    if (step == inject_at) return std::string("injected");
    return std::nullopt;
  }
  template <class T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const auto& m : sent)
      if (auto* x = std::get_if<T>(&m)) out.push_back(*x);
    return out;
  }
};

SegmentMsg segment(int64_t start, int64_t stop) {
  SegmentMsg s;
  s.trial = 4;
  s.start = start;
  s.stop = stop;
  s.max_steps = 100;
  return s;
}

TrainOptions intervals(int64_t log, int64_t eval) {
  TrainOptions t;
  t.log_interval = log;
  t.eval_interval = eval;
  return t;
}

// Advances until the segment ends, one virtual second a step.
SegmentRunner::Outcome run_to_end(SegmentRunner& r, RecordingPort& port) {
  SegmentRunner::Outcome o = SegmentRunner::Outcome::Trained;
  while (r.running()) {
    port.clock += 1;
    o = r.advance();
  }
  return o;
}

TEST(SegmentRunner, ReportsEveryLogIntervalEvaluatesEveryEvalIntervalAndEndsWithAnEvaluatedDone) {
  CountingTrainable t;
  RecordingPort port;
  const TrainOptions train = intervals(2, 3);
  SegmentRunner r(train, t, port);
  r.begin(1, segment(0, 7), 0, 0);
  EXPECT_EQ(run_to_end(r, port), SegmentRunner::Outcome::Done);
  // Reports at 2, 3 (eval), 4, 6 (eval); step 7 is the end: its metrics go in SegmentDone.
  const auto reports = port.all<ReportMsg>();
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_EQ(reports[0].step, 2);
  EXPECT_DOUBLE_EQ(reports[0].metrics.train_loss, 1.5);  // mean of steps 1 and 2
  EXPECT_TRUE(std::isnan(reports[0].metrics.eval_loss));
  EXPECT_EQ(reports[1].step, 3);
  EXPECT_DOUBLE_EQ(reports[1].metrics.train_loss, 3.0);
  EXPECT_DOUBLE_EQ(reports[1].metrics.eval_loss, 1003.0);
  EXPECT_EQ(reports[2].step, 4);
  EXPECT_EQ(reports[3].step, 6);
  EXPECT_DOUBLE_EQ(reports[3].metrics.train_loss, 5.5);
  EXPECT_DOUBLE_EQ(reports[3].metrics.eval_loss, 1006.0);
  const auto done = port.all<SegmentDoneMsg>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].group, 1);
  EXPECT_EQ(done[0].trial, 4);
  EXPECT_EQ(done[0].step, 7);
  EXPECT_FALSE(done[0].interrupted);
  EXPECT_DOUBLE_EQ(done[0].metrics.train_loss, 7.0);
  EXPECT_DOUBLE_EQ(done[0].metrics.eval_loss, 1007.0);
  EXPECT_EQ(t.evaluations, 3);
  EXPECT_TRUE(std::holds_alternative<SegmentDoneMsg>(port.sent.back()));
}

TEST(SegmentRunner, TokensThroughputAndSecondsComeFromTheTrainableAndThePortsClock) {
  CountingTrainable t;
  RecordingPort port;
  port.clock = 10;  // the order arrived at 10; loading the state took until 12
  const TrainOptions train = intervals(2, 0);
  SegmentRunner r(train, t, port);
  t.set_step(3);
  port.clock = 12;
  r.begin(0, segment(3, 7), /*started=*/10, /*trial_tokens=*/300);
  // Half a second a step: step 4 reports one step, step 6 two.
  port.clock += 0.5;
  ASSERT_EQ(r.advance(), SegmentRunner::Outcome::Trained);
  port.clock += 0.5;
  ASSERT_EQ(r.advance(), SegmentRunner::Outcome::Trained);
  port.clock += 0.5;
  ASSERT_EQ(r.advance(), SegmentRunner::Outcome::Trained);
  const auto reports = port.all<ReportMsg>();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].metrics.tokens, 400);
  EXPECT_DOUBLE_EQ(reports[0].metrics.throughput, 100 / 0.5);
  EXPECT_EQ(reports[1].metrics.tokens, 600);
  EXPECT_DOUBLE_EQ(reports[1].metrics.throughput, 200 / 1.0);
  EXPECT_DOUBLE_EQ(reports[1].metrics.lr, 0.5);
  port.clock += 2;
  EXPECT_EQ(r.advance(), SegmentRunner::Outcome::Done);
  const SegmentDoneMsg done = port.all<SegmentDoneMsg>().at(0);
  EXPECT_DOUBLE_EQ(done.seconds, 15.5 - 10);
  EXPECT_DOUBLE_EQ(done.metrics.throughput, 100 / 2.0);
  EXPECT_EQ(done.metrics.tokens, 700);
  EXPECT_EQ(r.trial_tokens(), 700);

  // Without tokens (synthetic trainables) the throughput is steps per second.
  CountingTrainable s;
  s.tokens_per_step = 0;
  RecordingPort p2;
  SegmentRunner r2(train, s, p2);
  r2.begin(0, segment(0, 5), 0, 0);
  p2.clock = 4;
  r2.advance();
  r2.advance();
  EXPECT_DOUBLE_EQ(p2.all<ReportMsg>().at(0).metrics.throughput, 2 / 4.0);
}

TEST(SegmentRunner, AStopEndsTheSegmentAtTheNextAdvanceWithoutAStepAndEvaluatesOnlyIfAsked) {
  for (bool evaluate : {false, true}) {
    CountingTrainable t;
    RecordingPort port;
    const TrainOptions train = intervals(10, 0);
    SegmentRunner r(train, t, port);
    r.begin(0, segment(0, 20), 0, 0);
    r.advance();
    r.advance();
    r.request_stop(evaluate);
    EXPECT_TRUE(r.stop_requested());
    EXPECT_EQ(r.advance(), SegmentRunner::Outcome::Done);
    EXPECT_FALSE(r.running());
    EXPECT_EQ(t.step(), 2);
    const SegmentDoneMsg done = port.all<SegmentDoneMsg>().at(0);
    EXPECT_TRUE(done.interrupted);
    EXPECT_EQ(done.step, 2);
    EXPECT_DOUBLE_EQ(done.metrics.train_loss, 1.5);
    EXPECT_EQ(std::isnan(done.metrics.eval_loss), !evaluate) << evaluate;
    EXPECT_EQ(t.evaluations, evaluate ? 1 : 0);
  }
}

TEST(SegmentRunner, AFailingStepANonFiniteLossAnotherRanksFailureAndAnInjectedOneFailTheTrial) {
  struct Case {
    const char* what;
    int64_t throw_at, nan_at, inject_at;
    int other_after;
    int64_t step;
    std::string reason_part;
  };
  const Case cases[] = {
      {"throws", 3, -1, -1, -1, 3, "the step blew up"},
      {"nan", -1, 2, -1, -1, 2, "non-finite training loss"},
      {"other rank", -1, -1, -1, 4, 4, "rank 1: out of memory"},
      {"injected", -1, -1, 5, -1, 5, "injected"},
  };
  for (const Case& c : cases) {
    CountingTrainable t;
    t.throw_at = c.throw_at;
    t.nan_at = c.nan_at;
    RecordingPort port;
    port.inject_at = c.inject_at;
    port.other_rank_fails_after = c.other_after;
    const TrainOptions train = intervals(100, 0);
    SegmentRunner r(train, t, port);
    r.begin(2, segment(0, 10), 0, 0);
    EXPECT_EQ(run_to_end(r, port), SegmentRunner::Outcome::Failed) << c.what;
    const auto failed = port.all<TrialFailedMsg>();
    ASSERT_EQ(failed.size(), 1u) << c.what;
    EXPECT_EQ(failed[0].group, 2);
    EXPECT_EQ(failed[0].trial, 4);
    EXPECT_EQ(failed[0].step, c.step) << c.what;
    EXPECT_NE(failed[0].reason.find(c.reason_part), std::string::npos) << c.what << ": " << failed[0].reason;
    EXPECT_DOUBLE_EQ(failed[0].seconds, static_cast<double>(c.step)) << c.what;
    EXPECT_TRUE(t.released) << c.what;
    EXPECT_TRUE(port.all<SegmentDoneMsg>().empty()) << c.what;
  }
}

TEST(SegmentRunner, ASegmentThatBeginsAtItsStopTrainsNothingAndReportsNoTrainingLoss) {
  CountingTrainable t;
  t.set_step(9);
  RecordingPort port;
  const TrainOptions train = intervals(1, 0);
  SegmentRunner r(train, t, port);
  r.begin(0, segment(9, 9), 0, 0);
  EXPECT_EQ(r.advance(), SegmentRunner::Outcome::Done);
  EXPECT_FALSE(r.trained_last());
  EXPECT_EQ(t.step(), 9);
  const SegmentDoneMsg done = port.all<SegmentDoneMsg>().at(0);
  EXPECT_EQ(done.step, 9);
  EXPECT_TRUE(std::isnan(done.metrics.train_loss));
  EXPECT_DOUBLE_EQ(done.metrics.eval_loss, 1009.0);
  EXPECT_TRUE(port.all<ReportMsg>().empty());
}

TEST(SegmentRunner, AtReportBoundaryIsTrueOnlyRightAfterAReport) {
  CountingTrainable t;
  RecordingPort port;
  const TrainOptions train = intervals(3, 0);
  SegmentRunner r(train, t, port);
  r.begin(0, segment(0, 10), 0, 0);
  EXPECT_TRUE(r.at_report_boundary());
  std::vector<bool> seen;
  for (int i = 0; i < 6; ++i) {
    r.advance();
    seen.push_back(r.at_report_boundary());
  }
  EXPECT_EQ(seen, (std::vector<bool>{false, false, true, false, false, true}));
}

}  // namespace
}  // namespace mpitune
