// Writes a small but realistic mpitune result file through the real HDF5 store, for
// check_results.py to read with h5py as users do.
//
//   write_sample_results OUT.h5 [--inconsistent]
//
// Three trials (completed, stopped, failed) over a space with every kind of hyperparameter,
// their metric reports, ASHA-style decisions, one PBT transfer, two groups and a summary.
// --inconsistent adds a metrics row for a trial that does not exist, so the test can show that
// check_results.py notices a broken file.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "mpitune/store/hdf5_store.hpp"

namespace mpitune {
namespace {

constexpr double kStart = 1700000000.0;

Domain range(const char* name, DomainKind kind, double low, double high) {
  Domain d;
  d.name = name;
  d.kind = kind;
  d.low = low;
  d.high = high;
  return d;
}

Domain values(const char* name, DomainKind kind, std::vector<ParamValue> v) {
  Domain d;
  d.name = name;
  d.kind = kind;
  d.values = std::move(v);
  return d;
}

ExperimentInfo sample_info() {
  ExperimentInfo info;
  info.mpitune_version = MPITUNE_VERSION;
  info.name = "sample";
  info.command_line = "mpirun -np 5 mpitune run --config sample.ini";
  info.config_text =
      "[experiment]\nname = sample\nseed = 3\ngroup_size = 2\n\n[space]\nlr = loguniform(1e-4, 1e-2)\n";
  info.seed = 3;
  info.metric = "eval_loss";
  info.mode = "min";
  info.scheduler = "asha";
  info.searcher = "random";
  info.trainable = "synthetic";
  info.world_size = 5;
  info.group_size = 2;
  info.num_groups = 2;
  info.device_kind = "cpu";
  info.start_time = kStart;
  info.space = Space(std::vector<Domain>{
      range("lr", DomainKind::LogUniform, 1e-4, 1e-2),
      range("weight_decay", DomainKind::Uniform, 0.0, 0.2),
      range("n_layer", DomainKind::Int, 2, 6),
      values("batch_size", DomainKind::Choice, {8, 16, 32}),
      values("optimizer", DomainKind::Choice, {"adamw", "sgd, nesterov"}),
      values("warmup_steps", DomainKind::Grid, {0, 10, 100}),
  });
  return info;
}

HParams hparams(double lr, double wd, int64_t n_layer, int64_t batch, const char* opt, int64_t warmup) {
  HParams hp;
  hp.set("lr", lr);
  hp.set("weight_decay", wd);
  hp.set("n_layer", n_layer);
  hp.set("batch_size", batch);
  hp.set("optimizer", opt);
  hp.set("warmup_steps", warmup);
  return hp;
}

struct Sample {
  TrialId id;
  int group;
  HParams hp;
  int64_t last_step;
  double loss_at_1;  // eval loss at step 1, falling by 10% per step
};

void write(const std::string& path, bool inconsistent) {
  auto store = create_hdf5_store(path, /*overwrite=*/true);
  store->begin(sample_info(), {{0, "1,2", "node01,node01", "cpu"}, {1, "3,4", "node01,node01", "cpu"}});

  const Sample samples[] = {
      {0, 0, hparams(1e-3, 0.05, 4, 16, "adamw", 10), 9, 3.0},
      {1, 1, hparams(3e-4, 0.15, 2, 8, "sgd, nesterov", 0), 3, 3.6},
      {2, 0, hparams(8e-3, 0.01, 6, 32, "adamw", 100), 2, 4.0},
  };
  double now = kStart + 1;
  double best = 1e300;
  TrialId best_trial = -1;
  for (const Sample& s : samples) {
    TrialRecord t;
    t.id = s.id;
    t.group = s.group;
    t.status = TrialStatus::Running;
    t.hparams = s.hp;
    t.start_time = now;
    store->upsert_trial(t);
    store->append_decision({now, s.id, 0, 0, -1, 1, "start", "new trial from the random searcher"});
    double loss = s.loss_at_1;
    for (int64_t step = 1; step <= s.last_step; ++step) {
      now += 0.5;
      MetricRecord m;
      m.trial = s.id;
      m.step = step;
      m.time = now;
      m.train_loss = loss * 1.05;
      m.eval_loss = loss;
      m.lr = s.hp.at("lr").as_double();
      m.tokens = step * 16 * 64;
      m.throughput = 2048.0;
      store->append_metric(m);
      if (!(t.best_metric <= loss)) t.best_metric = loss;  // NaN (none yet) compares false
      t.last_metric = loss;
      loss *= 0.9;
    }
    t.last_step = s.last_step;
    t.end_time = now;
    t.device_seconds = 2 * (t.end_time - t.start_time);
    if (s.id == 0) {
      t.status = TrialStatus::Completed;
      store->append_decision({now, s.id, s.last_step, 0, 2, 9, "complete", "reached max_t"});
    } else if (s.id == 1) {
      t.status = TrialStatus::Stopped;
      t.reason = "asha: not in the top 1/3 at rung 1";
      store->append_decision({now, s.id, s.last_step, 0, 1, 3, "stop", t.reason});
    } else {
      t.status = TrialStatus::Failed;
      t.reason = "non-finite loss at step 3 (injected fault)";
      store->append_decision({now, s.id, s.last_step, 0, 0, 1, "fail", t.reason});
    }
    store->upsert_trial(t);
    if (t.best_metric < best) {
      best = t.best_metric;
      best_trial = t.id;
    }
  }
  store->append_transfer({now, 0, 0, 1, 1, 3, 4096, 0.01, samples[1].hp.to_string(), samples[0].hp.to_string(), "model"});
  if (inconsistent) {
    MetricRecord orphan;
    orphan.trial = 99;
    orphan.step = 1;
    orphan.time = now;
    orphan.eval_loss = 1.0;
    store->append_metric(orphan);
  }
  SummaryRecord summary;
  summary.status = "finished";
  summary.end_time = now + 1;
  summary.elapsed_s = summary.end_time - kStart;
  summary.device_seconds = 5 * summary.elapsed_s;
  summary.trials = 3;
  summary.best_trial = best_trial;
  summary.best_metric = best;
  store->set_summary(summary);
  store->close();
}

}  // namespace
}  // namespace mpitune

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || (argc == 3 && std::strcmp(argv[2], "--inconsistent") != 0)) {
    std::fprintf(stderr, "usage: %s OUT.h5 [--inconsistent]\n", argv[0]);
    return 2;
  }
  try {
    mpitune::write(argv[1], argc == 3);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_sample_results: %s\n", e.what());
    return 1;
  }
  return 0;
}
