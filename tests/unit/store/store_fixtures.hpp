// Shared by the store tests: a small experiment with every kind of hyperparameter, and
// record comparisons that treat NaN as equal to NaN (unset numbers are NaN in the schema).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "mpitune/store/result_store.hpp"

namespace mpitune::testing {

inline Domain range_domain(const std::string& name, DomainKind kind, double low, double high) {
  Domain d;
  d.name = name;
  d.kind = kind;
  d.low = low;
  d.high = high;
  return d;
}

inline Domain values_domain(const std::string& name, DomainKind kind, std::vector<ParamValue> values) {
  Domain d;
  d.name = name;
  d.kind = kind;
  d.values = std::move(values);
  return d;
}

// lr loguniform, weight_decay uniform, n_layer int, batch_size choice of ints,
// optimizer choice of text, warmup grid of doubles (1.0 must stay a double).
inline Space sample_space() {
  return Space(std::vector<Domain>{
      range_domain("lr", DomainKind::LogUniform, 1e-4, 1e-2),
      range_domain("weight_decay", DomainKind::Uniform, 0.0, 0.2),
      range_domain("n_layer", DomainKind::Int, 2, 6),
      values_domain("batch_size", DomainKind::Choice, {8, 16, 32}),
      values_domain("optimizer", DomainKind::Choice, {"adamw", "sgd, momentum"}),
      values_domain("warmup", DomainKind::Grid, {0.5, 1.0}),
  });
}

inline ExperimentInfo sample_info() {
  ExperimentInfo info;
  info.mpitune_version = "0.1.0";
  info.name = "unit";
  info.command_line = "mpitune run --config unit.ini --set experiment.seed=7";
  info.config_text = "[experiment]\nname = unit\nseed = 7\n\n[space]\nlr = loguniform(1e-4, 1e-2)\n";
  info.seed = 18446744073709551557ull;  // above 2^63: must survive as uint64
  info.metric = "eval_loss";
  info.mode = "min";
  info.scheduler = "asha";
  info.searcher = "random";
  info.trainable = "synthetic";
  info.world_size = 5;
  info.group_size = 2;
  info.num_groups = 2;
  info.device_kind = "cpu";
  info.start_time = 1700000000.25;
  info.model_init = "pretrained";
  info.model_path = "/models/SmolLM2-135M";
  info.architecture = "llama";
  info.tokenizer = "bpe (tokenizer.json in /models/SmolLM2-135M), 49152 ids";
  info.params_total = 134515008;
  info.params_trainable = 921600;
  info.keep_dir = "results/unit.h5.keep";
  info.space = sample_space();
  return info;
}

inline HParams sample_hparams(double lr, int64_t n_layer, int64_t batch, const char* opt, double warmup) {
  HParams hp;
  hp.set("lr", lr);
  hp.set("weight_decay", 0.05);
  hp.set("n_layer", n_layer);
  hp.set("batch_size", batch);
  hp.set("optimizer", opt);
  hp.set("warmup", warmup);
  return hp;
}

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
  EXPECT_SAME_NUMBER(a.lr, b.lr);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_SAME_NUMBER(a.throughput, b.throughput);
  EXPECT_SAME_NUMBER(a.loss_scale, b.loss_scale);
}

}  // namespace mpitune::testing
