// FIFO scheduler: new trials while allowed, every trial runs to max_t, then completes.
#include <gtest/gtest.h>

#include "mpitune/sched/scheduler.hpp"

namespace mpitune {
namespace {

TEST(Fifo, RunsEveryTrialToMaxT) {
  auto s = make_fifo_scheduler(FifoOptions{50});
  EXPECT_EQ(s->name(), "fifo");
  EXPECT_EQ(s->max_steps(), 50);
  const Assignment a = s->next(true).assignment;
  EXPECT_EQ(a.kind, Assignment::Kind::NewTrial);
  EXPECT_EQ(s->on_trial_start(0, HParams(), a).until, 50);
  // Reports never stop a trial.
  const Decisions report = s->on_report(0, 10, 1e9);
  EXPECT_EQ(report.own.action, Action::Continue);
  EXPECT_TRUE(report.others.empty());
  const Decisions end = s->on_segment_end(0, 50, 0.3);
  EXPECT_TRUE(end.others.empty());
  const Decision& d = end.own;
  EXPECT_EQ(d.action, Action::Complete);
  EXPECT_FALSE(d.reason.empty());
}

TEST(Fifo, DoneWhenNoNewTrialsMayStart) {
  auto s = make_fifo_scheduler(FifoOptions{10});
  EXPECT_EQ(s->next(false).assignment.kind, Assignment::Kind::Done);
  EXPECT_TRUE(s->on_trial_failed(3).empty());  // harmless, and no decision about other trials
  EXPECT_EQ(s->next(true).assignment.kind, Assignment::Kind::NewTrial);
}

TEST(Fifo, ASegmentEndingShortOfMaxTContinues) {
  auto s = make_fifo_scheduler(FifoOptions{10});
  const Decision d = s->on_segment_end(0, 4, 0.3).own;
  EXPECT_EQ(d.action, Action::Continue);
  EXPECT_EQ(d.until, 10);
}

TEST(Decision, ActionNames) {
  EXPECT_STREQ(action_name(Action::Continue), "continue");
  EXPECT_STREQ(action_name(Action::Stop), "stop");
  EXPECT_STREQ(action_name(Action::Pause), "pause");
  EXPECT_STREQ(action_name(Action::Clone), "clone");
  EXPECT_STREQ(action_name(Action::Complete), "complete");
  EXPECT_STREQ(action_name(Action::Rebase), "rebase");
}

}  // namespace
}  // namespace mpitune
