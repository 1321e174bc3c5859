// Shared by the store tests: the sample experiment (sample_experiment.hpp), and
// record comparisons that treat NaN as equal to NaN (unset numbers are NaN in the schema).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "mpitune/store/hdf5_store.hpp"
#include "mpitune/store/result_store.hpp"
#include "sample_experiment.hpp"

namespace mpitune::testing {

inline bool same_number(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

#define EXPECT_SAME_NUMBER(a, b) EXPECT_PRED2(::mpitune::testing::same_number, a, b)

inline void expect_same_trial(const TrialRecord& a, const TrialRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.parent, b.parent);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.hparams, b.hparams) << a.hparams.to_string() << " vs " << b.hparams.to_string();
  EXPECT_SAME_NUMBER(a.start_time, b.start_time);
  EXPECT_SAME_NUMBER(a.end_time, b.end_time);
  EXPECT_EQ(a.last_step, b.last_step);
  EXPECT_SAME_NUMBER(a.best_metric, b.best_metric);
  EXPECT_SAME_NUMBER(a.last_metric, b.last_metric);
  EXPECT_EQ(a.metric_step, b.metric_step);
  EXPECT_SAME_NUMBER(a.device_seconds, b.device_seconds);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.params_total, b.params_total);
  EXPECT_EQ(a.params_trainable, b.params_trainable);
}

inline void expect_same_metric(const MetricRecord& a, const MetricRecord& b) {
  EXPECT_EQ(a.trial, b.trial);
  EXPECT_EQ(a.step, b.step);
  EXPECT_SAME_NUMBER(a.time, b.time);
  EXPECT_SAME_NUMBER(a.train_loss, b.train_loss);
  EXPECT_SAME_NUMBER(a.eval_loss, b.eval_loss);
  EXPECT_SAME_NUMBER(a.retention_loss, b.retention_loss);
  EXPECT_SAME_NUMBER(a.lr, b.lr);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_SAME_NUMBER(a.throughput, b.throughput);
  EXPECT_SAME_NUMBER(a.loss_scale, b.loss_scale);
}

inline void expect_same_final(const FinalRecord& a, const FinalRecord& b) {
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.trial, b.trial);
  EXPECT_EQ(a.step, b.step);
  EXPECT_EQ(a.hparams, b.hparams);
  EXPECT_SAME_NUMBER(a.eval_loss, b.eval_loss);
  EXPECT_SAME_NUMBER(a.test_loss, b.test_loss);
  EXPECT_SAME_NUMBER(a.test_ci_low, b.test_ci_low);
  EXPECT_SAME_NUMBER(a.test_ci_high, b.test_ci_high);
  EXPECT_EQ(a.test_documents, b.test_documents);
  EXPECT_EQ(a.test_tokens, b.test_tokens);
  EXPECT_EQ(a.bootstrap, b.bootstrap);
  EXPECT_SAME_NUMBER(a.retention_loss, b.retention_loss);
  EXPECT_SAME_NUMBER(a.seconds, b.seconds);
}

// The /events rows of these events: one per 128 bytes of data (kH5EventDataBytes), at least one.
inline size_t event_rows(const std::vector<EventRecord>& events) {
  size_t rows = 0;
  for (const auto& e : events) rows += std::max<size_t>(1, (e.data.size() + kH5EventDataBytes - 1) / kH5EventDataBytes);
  return rows;
}

inline void expect_same_event(const EventRecord& a, const EventRecord& b) {
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_SAME_NUMBER(a.time, b.time);
  EXPECT_EQ(a.vtime, b.vtime);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.data, b.data);
}

inline void expect_same_segment(const SegmentRecord& a, const SegmentRecord& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_SAME_NUMBER(a.start_time, b.start_time);
  EXPECT_SAME_NUMBER(a.end_time, b.end_time);
  EXPECT_EQ(a.status, b.status);
  EXPECT_SAME_NUMBER(a.elapsed_s, b.elapsed_s);
  EXPECT_SAME_NUMBER(a.device_seconds, b.device_seconds);
  EXPECT_EQ(a.world_size, b.world_size);
  EXPECT_EQ(a.group_size, b.group_size);
  EXPECT_EQ(a.num_groups, b.num_groups);
  EXPECT_EQ(a.devices, b.devices);
  EXPECT_EQ(a.hosts, b.hosts);
  EXPECT_EQ(a.command_line, b.command_line);
  EXPECT_EQ(a.first_event, b.first_event);
  EXPECT_EQ(a.reason, b.reason);
}

}  // namespace mpitune::testing
