// A small experiment with every kind of hyperparameter, and a complete result file of it, for
// the store tests and the result-file fuzz benchmark. No GoogleTest here, so bench/ can use it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/store/hdf5_store.hpp"
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
  info.devices = 4;
  info.device_kind = "cpu";
  info.max_t = 27;
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

// An event of `bytes` bytes of binary data (with NULs: a string column could not hold it).
inline EventRecord sample_event(int64_t seq, const std::string& kind, size_t bytes) {
  EventRecord e;
  e.seq = seq;
  e.time = 1700000000.5 + static_cast<double>(seq);
  e.vtime = seq % 3 == 0 ? -1 : 1000 * seq;
  e.group = static_cast<int>(seq % 3) - 1;
  e.kind = kind;
  for (size_t i = 0; i < bytes; ++i) e.data.push_back(static_cast<uint8_t>((i * 7 + static_cast<size_t>(seq)) % 256));
  return e;
}

// The two jobs of the sample experiment: the first interrupted, the resumed one finished.
inline std::vector<SegmentRecord> sample_segments() {
  SegmentRecord first;
  first.index = 0;
  first.start_time = 1700000000.25;
  first.end_time = 1700000006.0;
  first.status = "interrupted";
  first.elapsed_s = 5.75;
  first.device_seconds = 28.75;
  first.world_size = 5;
  first.group_size = 2;
  first.num_groups = 2;
  first.devices = 4;
  first.hosts = "node01,node02";
  first.command_line = "mpitune run --config unit.ini";
  first.first_event = 0;
  first.reason = "stop signal received (SIGUSR1)";
  SegmentRecord second = first;
  second.index = 1;
  second.start_time = 1700000007.0;
  second.end_time = 1700000020.0;
  second.status = "finished";
  second.elapsed_s = 13.0;
  second.device_seconds = 39.0;
  second.world_size = 3;
  second.group_size = 1;
  second.devices = 2;
  second.hosts = "node03";
  second.command_line = "mpitune run --config unit.ini --resume";
  second.first_event = 5;
  second.reason = "search finished";
  return {first, second};
}

// A finished experiment written through the real store: 2 groups, 6 trials (every status but
// pending, one PBT clone), 40 metric rows (with retention losses at the eval points), their
// decisions, one PBT transfer, the summary and two /final rows with 3 test documents each,
// 9 events (one of 1000 bytes in 8 rows, one without data) and two segments, closed cleanly.
// What the damaged-file tests and the fuzz start from.
inline void write_sample_result_file(const std::string& path) {
  const TrialStatus statuses[] = {TrialStatus::Completed, TrialStatus::Stopped, TrialStatus::Failed,
                                  TrialStatus::Paused,    TrialStatus::Running, TrialStatus::EarlyStopped};
  const char* optimizers[] = {"adamw", "sgd, momentum"};
  auto store = create_hdf5_store(path, /*overwrite=*/true);
  store->begin(sample_info(), {{0, "1,2", "node01,node01", "cpu"}, {1, "3,4", "node02,node02", "cpu"}});
  const std::vector<SegmentRecord> segments = sample_segments();
  store->set_segment(segments[0]);
  store->append_event(sample_event(0, "job", 0));
  for (TrialId id = 0; id < 6; ++id) {
    store->append_event(sample_event(id + 1, "message", 60 + 10 * static_cast<size_t>(id)));
    if (id == 4) store->set_segment(segments[1]);
    TrialRecord t;
    t.id = id;
    t.parent = id == 5 ? 0 : -1;
    t.group = static_cast<int>(id % 2);
    t.status = TrialStatus::Running;
    t.hparams = sample_hparams(1e-3 / static_cast<double>(id + 1), 2 + id % 5, 8 << (id % 3),
                               optimizers[id % 2], id % 2 ? 0.5 : 1.0);
    t.start_time = 1700000001.0 + static_cast<double>(id);
    t.params_total = 134515008;
    t.params_trainable = 921600;
    store->upsert_trial(t);
    for (int64_t step = 1; step <= 6 + id % 2; ++step) {
      MetricRecord m;
      m.trial = id;
      m.step = step * 3;
      m.time = t.start_time + static_cast<double>(step);
      m.train_loss = 4.0 / static_cast<double>(step + id);
      m.eval_loss = step % 3 == 0 ? m.train_loss * 1.05 : kNaN;
      m.retention_loss = step % 3 == 0 ? 3.25 + 0.125 * static_cast<double>(step) : kNaN;
      m.lr = 1e-3;
      m.tokens = 1024 * step;
      m.throughput = 2500.0 + static_cast<double>(id);
      store->append_metric(m);
    }
    store->append_decision({t.start_time, id, 0, 0, 0, 9.0, "start", "new trial"});
    t.status = statuses[id];
    t.end_time = t.start_time + 7.0;
    t.last_step = 18;
    t.best_metric = 4.0 / static_cast<double>(3 + id) * 1.05;
    t.last_metric = t.best_metric;
    t.metric_step = 18;
    t.device_seconds = 14.0;
    t.reason = t.status == TrialStatus::Failed ? "non-finite loss at step 18" : "rung 1 of bracket 0";
    store->upsert_trial(t);
    store->append_decision({t.end_time, id, 18, 0, 1, 9.0, trial_status_name(t.status), t.reason});
  }
  const HParams old_values = sample_hparams(1e-3, 2, 8, "adamw", 1.0);
  HParams new_values = old_values;
  new_values.set("lr", 1.2e-3);
  new_values.set("batch_size", int64_t{16});
  store->append_transfer({1700000009.0, 0, 0, 5, 1, 18, 1234567, 0.125, old_values.to_string(),
                          new_values.to_string(), "model", old_values, new_values, "ranks"});
  store->append_event(sample_event(7, "budget", 1000));
  store->append_event(sample_event(8, "stop", 20));
  store->set_summary({"finished", 1700000020.0, 19.0, 95.0, 6, 0, 0.7, 18, 0, 0.7});
  for (const char* label : {"best", "base"}) {
    const bool best = std::string(label) == "best";
    FinalRecord f{label, best ? 0 : -1, best ? 18 : 0, best ? old_values.to_string() : "", best ? 0.7 : 3.5,
                  best ? 0.75 : 3.6, best ? 0.7 : 3.4, best ? 0.8 : 3.8, 3, 90, 1000, best ? 3.5 : 3.25, 0.5};
    std::vector<FinalDocumentRecord> documents;
    for (int64_t doc = 0; doc < 3; ++doc)
      documents.push_back({label, doc, f.test_loss * static_cast<double>(20 + 5 * doc), 20 + 5 * doc});
    store->append_final(f, documents);
  }
  store->close();
}

}  // namespace mpitune::testing
