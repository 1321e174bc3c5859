#include <gtest/gtest.h>

#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/core/protocol.hpp"

namespace mpitune {
namespace {

HParams sample_hparams() {
  HParams hp;
  hp.set("lr", ParamValue(0.0012345678901234567));
  hp.set("batch_size", ParamValue(int64_t{16}));
  hp.set("act", ParamValue(std::string("gelu")));
  return hp;
}

template <class T>
T round_trip(const T& msg) {
  const auto bytes = encode(Message(msg));
  const Message back = decode(bytes);
  EXPECT_TRUE(std::holds_alternative<T>(back)) << message_name(back);
  return std::get<T>(back);
}

TEST(Protocol, SegmentRoundTripKeepsEveryFieldAndType) {
  SegmentMsg s;
  s.trial = 42, s.hparams = sample_hparams(), s.start = 9, s.stop = 27, s.max_steps = 81;
  s.seed = 0xfedcba9876543210ULL, s.init = SegmentInit::Clone, s.source_trial = 7, s.source_group = 3;
  s.checkpoint = "ckpt/trial-42";
  s.checkpoint_every_s = 1800.5, s.checkpoint_prefix = "ckpt/trial-42-step";
  const SegmentMsg b = round_trip(s);
  EXPECT_EQ(b.trial, 42);
  EXPECT_EQ(b.hparams, s.hparams);  // doubles bit-exact, ints stay ints, strings stay strings
  EXPECT_TRUE(b.hparams.at("batch_size").is_int());
  EXPECT_EQ(b.start, 9);
  EXPECT_EQ(b.stop, 27);
  EXPECT_EQ(b.max_steps, 81);
  EXPECT_EQ(b.seed, s.seed);
  EXPECT_EQ(b.init, SegmentInit::Clone);
  EXPECT_EQ(b.source_trial, 7);
  EXPECT_EQ(b.source_group, 3);
  EXPECT_EQ(b.checkpoint, "ckpt/trial-42");
  EXPECT_EQ(b.checkpoint_every_s, 1800.5);
  EXPECT_EQ(b.checkpoint_prefix, "ckpt/trial-42-step");
}

TEST(Protocol, PeriodicCheckpointRoundTrip) {
  const PeriodicCheckpointMsg p = round_trip(PeriodicCheckpointMsg{3, 11, 250, "ckpt/trial-11-step250", 0.75});
  EXPECT_EQ(p.group, 3);
  EXPECT_EQ(p.trial, 11);
  EXPECT_EQ(p.step, 250);
  EXPECT_EQ(p.dir, "ckpt/trial-11-step250");
  EXPECT_EQ(p.seconds, 0.75);
  EXPECT_STREQ(message_name(Message(PeriodicCheckpointMsg{})), "PeriodicCheckpoint");
}

TEST(Protocol, ReportsAndFailuresRoundTrip) {
  ReportMsg r{2, 5, 30, {}};
  r.metrics.train_loss = 2.5, r.metrics.eval_loss = std::nan(""), r.metrics.tokens = 1 << 20;
  const ReportMsg rb = round_trip(r);
  EXPECT_EQ(rb.group, 2);
  EXPECT_EQ(rb.step, 30);
  EXPECT_DOUBLE_EQ(rb.metrics.train_loss, 2.5);
  EXPECT_TRUE(std::isnan(rb.metrics.eval_loss));
  EXPECT_EQ(rb.metrics.tokens, 1 << 20);

  SegmentDoneMsg d;
  d.group = 1, d.trial = 3, d.step = 9, d.seconds = 1.5, d.interrupted = true;
  const SegmentDoneMsg db = round_trip(d);
  EXPECT_TRUE(db.interrupted);
  EXPECT_DOUBLE_EQ(db.seconds, 1.5);

  const TrialFailedMsg fb = round_trip(TrialFailedMsg{0, 8, 4, "non-finite loss", 0.25});
  EXPECT_EQ(fb.reason, "non-finite loss");
  EXPECT_EQ(fb.trial, 8);
  EXPECT_EQ(round_trip(StopTrialMsg{11, "time budget"}).trial, 11);
  EXPECT_EQ(round_trip(ShutdownMsg{"done"}).reason, "done");
  EXPECT_EQ(round_trip(ReadyMsg{6}).group, 6);
  EXPECT_EQ(round_trip(CheckpointMsg{4, "out.ckpt/trial-4"}).dir, "out.ckpt/trial-4");
  EXPECT_FALSE(round_trip(CheckpointMsg{4, "d"}).cache);
  EXPECT_TRUE(round_trip(CheckpointMsg{4, "d", true}).cache);
  const CheckpointDoneMsg cb = round_trip(CheckpointDoneMsg{2, 4, 27, 0.75, 1447418});
  EXPECT_EQ(cb.group, 2);
  EXPECT_EQ(cb.trial, 4);
  EXPECT_EQ(cb.step, 27);
  EXPECT_DOUBLE_EQ(cb.seconds, 0.75);
  EXPECT_EQ(cb.cached_bytes, 1447418);
  EXPECT_EQ(round_trip(ReleaseStateMsg{12}).trial, 12);
  EXPECT_STREQ(message_name(Message(ReleaseStateMsg{})), "ReleaseState");
  const SendStateMsg sb = round_trip(SendStateMsg{5, 1, 9});
  EXPECT_EQ(sb.trial, 5);
  EXPECT_EQ(sb.target_group, 1);
  EXPECT_EQ(sb.target_trial, 9);
  StateReceivedMsg rcv;
  rcv.group = 1, rcv.trial = 9, rcv.source_trial = 5, rcv.source_group = 0, rcv.step = 40;
  rcv.bytes = 123456789012LL, rcv.seconds = 0.5, rcv.ok = false, rcv.reason = "gone";
  const StateReceivedMsg rcv_back = round_trip(rcv);
  EXPECT_EQ(rcv_back.bytes, 123456789012LL);
  EXPECT_FALSE(rcv_back.ok);
  EXPECT_EQ(rcv_back.reason, "gone");
  EXPECT_EQ(rcv_back.source_group, 0);
  EXPECT_EQ(rcv_back.step, 40);
}

TEST(Protocol, FinalEvaluationMessagesAndStopEvaluateRoundTrip) {
  const StopTrialMsg stop = round_trip(StopTrialMsg{3, "time budget reached", true});
  EXPECT_TRUE(stop.evaluate);
  EXPECT_FALSE(round_trip(StopTrialMsg{3, "stop", false}).evaluate);

  FinalEvalMsg f;
  f.label = "base", f.trial = 12, f.hparams = sample_hparams(), f.seed = 0x0123456789abcdefULL, f.max_steps = 243;
  f.checkpoint = "r.h5.keep/trial-12", f.held = true;
  const FinalEvalMsg fb = round_trip(f);
  EXPECT_EQ(fb.label, "base");
  EXPECT_EQ(fb.trial, 12);
  EXPECT_EQ(fb.hparams, f.hparams);
  EXPECT_EQ(fb.seed, f.seed);
  EXPECT_EQ(fb.max_steps, 243);
  EXPECT_EQ(fb.checkpoint, f.checkpoint);
  EXPECT_TRUE(fb.held);

  FinalEvalDoneMsg d;
  d.group = 2, d.label = "best", d.trial = 12, d.step = 81, d.eval_loss = 2.5, d.retention_loss = 3.25;
  d.doc_loss_sums = {1.5, 0.0, 7.25}, d.doc_tokens = {3, 0, 11}, d.seconds = 0.5, d.ok = false, d.reason = "oom";
  const FinalEvalDoneMsg db = round_trip(d);
  EXPECT_EQ(db.group, 2);
  EXPECT_EQ(db.label, "best");
  EXPECT_EQ(db.step, 81);
  EXPECT_DOUBLE_EQ(db.eval_loss, 2.5);
  EXPECT_DOUBLE_EQ(db.retention_loss, 3.25);
  EXPECT_EQ(db.doc_loss_sums, d.doc_loss_sums);
  EXPECT_EQ(db.doc_tokens, d.doc_tokens);
  EXPECT_FALSE(db.ok);
  EXPECT_EQ(db.reason, "oom");

  ReportMsg r;
  r.metrics.retention_loss = 4.5;
  EXPECT_DOUBLE_EQ(round_trip(r).metrics.retention_loss, 4.5);
}

TEST(Protocol, PreemptPreemptedAndHeartbeatRoundTrip) {
  const PreemptMsg p = round_trip(PreemptMsg{17, "out.h5.ckpt/trial-17"});
  EXPECT_EQ(p.trial, 17);
  EXPECT_EQ(p.dir, "out.h5.ckpt/trial-17");

  PreemptedMsg d;
  d.group = 3, d.trial = 17, d.step = 123456789012LL, d.ok = true, d.reason = "", d.seconds = 12.625;
  const PreemptedMsg db = round_trip(d);
  EXPECT_EQ(db.group, 3);
  EXPECT_EQ(db.trial, 17);
  EXPECT_EQ(db.step, 123456789012LL);
  EXPECT_TRUE(db.ok);
  EXPECT_EQ(db.reason, "");
  EXPECT_DOUBLE_EQ(db.seconds, 12.625);
  // The refusal: every field after the flag still lands in its place.
  const PreemptedMsg refused = round_trip(PreemptedMsg{0, 4, 0, false, "this group holds trial 9", 0.5});
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.reason, "this group holds trial 9");
  EXPECT_DOUBLE_EQ(refused.seconds, 0.5);
  EXPECT_EQ(refused.trial, 4);

  EXPECT_EQ(round_trip(HeartbeatMsg{5}).group, 5);
  EXPECT_STREQ(message_name(Message(PreemptMsg{})), "Preempt");
  EXPECT_STREQ(message_name(Message(PreemptedMsg{})), "Preempted");
  EXPECT_STREQ(message_name(Message(HeartbeatMsg{})), "Heartbeat");
  // A heartbeat is tiny: version, type and the group (it goes out every few seconds per group).
  EXPECT_EQ(encode(Message(HeartbeatMsg{5})).size(), 2u + 8u);
}

TEST(Protocol, NewMessagesRejectTruncationAndTrailingBytes) {
  for (const Message& m : {Message(PreemptMsg{2, "d"}), Message(PreemptedMsg{1, 2, 3, true, "r", 1.0}),
                           Message(HeartbeatMsg{1}), Message(PeriodicCheckpointMsg{1, 2, 3, "d", 0.5})}) {
    const auto bytes = encode(m);
    auto truncated = bytes;
    truncated.pop_back();
    EXPECT_THROW(decode(truncated), InfraError) << message_name(m);
    auto trailing = bytes;
    trailing.push_back(0);
    EXPECT_THROW(decode(trailing), InfraError) << message_name(m);
  }
}

TEST(Protocol, RejectsOtherVersionsTruncationAndTrailingBytes) {
  auto bytes = encode(Message(ReadyMsg{1}));
  auto wrong_version = bytes;
  wrong_version[0] = kProtocolVersion + 1;
  EXPECT_THROW(decode(wrong_version), InfraError);
  auto truncated = bytes;
  truncated.pop_back();
  EXPECT_THROW(decode(truncated), InfraError);
  auto trailing = bytes;
  trailing.push_back(0);
  EXPECT_THROW(decode(trailing), InfraError);
  auto unknown = bytes;
  unknown[1] = 200;
  EXPECT_THROW(decode(unknown), InfraError);
}

}  // namespace
}  // namespace mpitune
