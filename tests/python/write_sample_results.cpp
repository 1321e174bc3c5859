// Writes a small but realistic mpitune result file through the real HDF5 store, for
// check_results.py and the README's pandas snippet to read with h5py as users do.
//
//   write_sample_results OUT.h5 [--inconsistent | --no-eval | --pbt]
//
// Default: three trials (completed, early_stopped, failed) over a space with every kind of
// hyperparameter, their metric reports (eval and retention losses), ASHA-style decisions, one
// PBT transfer, two groups, the summary and the evaluation on the test split (/final: the best
// trial and the base model, 4 test documents each).
// --inconsistent adds a metrics row for a trial that does not exist, so the test can show that
// check_results.py notices a broken file.
// --no-eval: a run a few steps in: trials running, train losses only (eval_loss NaN), no /final.
// --pbt: a PBT run: four exploits with their typed old/new hyperparameters, clones' parents.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

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
  info.devices = 4;
  info.device_kind = "cpu";
  info.max_t = 9;
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

enum class Kind { Asha, NoEval, Pbt };

struct Options {
  Kind kind = Kind::Asha;
  bool inconsistent = false;
};

// The test split evaluated for the best trial and for the base model, 4 documents each.
void write_finals(ResultStore& store, const Sample& best, double best_eval) {
  for (const char* label : {"best", "base"}) {
    const bool is_best = std::string(label) == "best";
    FinalRecord f;
    f.label = label;
    f.trial = is_best ? best.id : -1;
    f.step = is_best ? best.last_step : 0;
    f.hparams = is_best ? best.hp.to_string() : "";
    f.eval_loss = is_best ? best_eval : 4.5;
    std::vector<FinalDocumentRecord> documents;
    double loss_sum = 0;
    for (int64_t d = 0; d < 4; ++d) {
      FinalDocumentRecord doc{label, d, (is_best ? 1.5 : 4.25) * static_cast<double>(10 + d) + 0.25 * d, 10 + d};
      loss_sum += doc.loss_sum;
      f.test_tokens += doc.tokens;
      documents.push_back(doc);
    }
    f.test_documents = 4;
    f.test_loss = loss_sum / static_cast<double>(f.test_tokens);
    f.test_ci_low = f.test_loss - 0.125;
    f.test_ci_high = f.test_loss + 0.125;
    f.bootstrap = 1000;
    f.retention_loss = is_best ? 3.75 : 3.5;
    f.seconds = 0.5;
    store.append_final(f, documents);
  }
}

void write(const std::string& path, const Options& o) {
  auto store = create_hdf5_store(path, /*overwrite=*/true);
  ExperimentInfo info = sample_info();
  if (o.kind == Kind::Pbt) info.scheduler = "pbt";
  store->begin(info, {{0, "1,2", "node01,node01", "cpu"}, {1, "3,4", "node01,node01", "cpu"}});

  const Sample samples[] = {
      {0, 0, hparams(1e-3, 0.05, 4, 16, "adamw", 10), 9, 3.0},
      {1, 1, hparams(3e-4, 0.15, 2, 8, "sgd, nesterov", 0), 3, 3.6},
      {2, 0, hparams(8e-3, 0.01, 6, 32, "adamw", 100), 2, 4.0},
  };
  double now = kStart + 1;
  double best = 1e300;
  TrialId best_trial = -1;
  int64_t best_budget = 0;
  for (const Sample& s : samples) {
    TrialRecord t;
    t.id = s.id;
    t.group = s.group;
    t.status = TrialStatus::Running;
    t.hparams = s.hp;
    t.start_time = now;
    if (o.kind == Kind::Pbt && s.id == 2) t.parent = 0;  // a clone of trial 0 (see the transfers)
    store->upsert_trial(t);
    store->append_decision({now, s.id, 0, 0, -1, 1, "start", "new trial from the random searcher"});
    double loss = s.loss_at_1;
    const int64_t steps = o.kind == Kind::NoEval ? 2 : s.last_step;
    for (int64_t step = 1; step <= steps; ++step) {
      now += 0.5;
      MetricRecord m;
      m.trial = s.id;
      m.step = step;
      m.time = now;
      m.train_loss = loss * 1.05;
      m.eval_loss = o.kind == Kind::NoEval ? kNaN : loss;
      m.retention_loss = o.kind == Kind::NoEval ? kNaN : 3.25 + 0.0625 * static_cast<double>(step);
      m.lr = s.hp.at("lr").as_double();
      m.tokens = step * 16 * 64;
      m.throughput = 2048.0;
      store->append_metric(m);
      if (o.kind != Kind::NoEval) {
        if (!(t.best_metric <= loss)) t.best_metric = loss;  // NaN (none yet) compares false
        t.last_metric = loss;
        t.metric_step = step;
      }
      loss *= 0.9;
    }
    t.last_step = steps;
    if (o.kind == Kind::NoEval) {  // still running: the row as it was at the start
      store->upsert_trial(t);
      continue;
    }
    t.end_time = now;
    t.device_seconds = 2 * (t.end_time - t.start_time);
    if (s.id == 0) {
      t.status = TrialStatus::Completed;
      store->append_decision({now, s.id, s.last_step, 0, 2, 9, "complete", "reached max_t"});
    } else if (s.id == 1) {
      t.status = TrialStatus::EarlyStopped;
      t.reason = "no improvement of more than 0.01 in 2 evaluations";
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
      best_budget = t.metric_step;
    }
  }
  // PBT exploits: the target takes the source's state and a perturbed copy of its hyperparameters.
  const int exploits = o.kind == Kind::Pbt ? 4 : o.kind == Kind::Asha ? 1 : 0;
  for (int i = 0; i < exploits; ++i) {
    const Sample& source = samples[0];
    const Sample& target = samples[1 + i % 2];
    HParams moved = source.hp;
    moved.set("lr", source.hp.at("lr").as_double() * (i % 2 ? 0.8 : 1.2));
    moved.set("batch_size", int64_t{8} << (i % 3));
    store->append_transfer({now, source.id, source.group, target.id, target.group, 3, 4096, 0.01,
                            target.hp.to_string(), moved.to_string(), "model", target.hp, moved,
                            i % 2 ? "memory" : "ranks"});
  }
  if (o.inconsistent) {
    MetricRecord orphan;
    orphan.trial = 99;
    orphan.step = 1;
    orphan.time = now;
    orphan.eval_loss = 1.0;
    store->append_metric(orphan);
  }
  SummaryRecord summary;
  summary.status = o.kind == Kind::NoEval ? "running" : "finished";
  summary.end_time = o.kind == Kind::NoEval ? kNaN : now + 1;
  summary.elapsed_s = now + 1 - kStart;
  summary.device_seconds = 5 * summary.elapsed_s;
  summary.trials = 3;
  if (best_trial >= 0) {
    summary.best_trial = best_trial;
    summary.best_metric = best;
    summary.best_budget = best_budget;
    summary.best_any_trial = best_trial;
    summary.best_any_metric = best;
  }
  store->set_summary(summary);
  if (o.kind != Kind::NoEval) write_finals(*store, samples[static_cast<size_t>(best_trial)], best);
  store->close();
}

}  // namespace
}  // namespace mpitune

int main(int argc, char** argv) {
  mpitune::Options options;
  bool usage = argc < 2 || argc > 3;
  if (argc == 3) {
    if (std::strcmp(argv[2], "--inconsistent") == 0) options.inconsistent = true;
    else if (std::strcmp(argv[2], "--no-eval") == 0) options.kind = mpitune::Kind::NoEval;
    else if (std::strcmp(argv[2], "--pbt") == 0) options.kind = mpitune::Kind::Pbt;
    else usage = true;
  }
  if (usage) {
    std::fprintf(stderr, "usage: %s OUT.h5 [--inconsistent | --no-eval | --pbt]\n", argv[0]);
    return 2;
  }
  try {
    mpitune::write(argv[1], options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_sample_results: %s\n", e.what());
    return 1;
  }
  return 0;
}
