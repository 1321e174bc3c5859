// The HDF5 store: every record type written and read back, in-place updates, string limits,
// call-order and input errors, and the reader's refusal of files that are not ours.
#include "mpitune/store/hdf5_store.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "mpitune/core/error.hpp"
#include "store_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::expect_same_metric;
using testing::expect_same_trial;
using testing::sample_hparams;
using testing::sample_info;
using testing::TempDir;

std::vector<GroupRecord> sample_groups() {
  return {{0, "1,2", "node01,node01", "cpu"}, {1, "3,4", "node01,node02", "cuda:0,cuda:1"}};
}

TrialRecord running_trial(TrialId id, HParams hp) {
  TrialRecord t;
  t.id = id;
  t.group = static_cast<int>(id % 2);
  t.status = TrialStatus::Running;
  t.hparams = std::move(hp);
  t.start_time = 1700000001.5 + static_cast<double>(id);
  return t;
}

TEST(Hdf5Store, RoundTripsEveryRecordType) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const ExperimentInfo info = sample_info();

  TrialRecord t0 = running_trial(0, sample_hparams(1e-3, 4, 16, "adamw", 1.0));
  TrialRecord t1 = running_trial(1, sample_hparams(2.5e-4, 2, 32, "sgd, momentum", 0.5));
  t1.params_total = 134515008;
  t1.params_trainable = 460800;
  TrialRecord pending;  // a trial known but not started: no hyperparameters stored yet
  pending.id = 2;

  std::vector<MetricRecord> metrics;
  for (int step = 1; step <= 3; ++step) {
    MetricRecord m;
    m.trial = step % 2;
    m.step = step;
    m.time = 1700000002.0 + step;
    m.train_loss = 3.0 / step;
    m.eval_loss = step == 2 ? kNaN : 3.1 / step;
    m.lr = 1e-3 * step;
    m.tokens = 1024 * step;
    m.throughput = 5000.5;
    m.loss_scale = step == 3 ? 65536.0 : kNaN;
    metrics.push_back(m);
  }
  DecisionRecord d{1700000005.0, 1, 3, 0, 1, 9.0, "stop", "below the top 1/3 at rung 1"};
  TransferRecord x{1700000006.0, 0, 0, 1, 1, 3, 123456789, 0.25, t1.hparams.to_string(), t0.hparams.to_string(),
                   "adapters", t1.hparams, t0.hparams, "memory"};
  SummaryRecord summary{"finished", 1700000010.0, 9.75, 48.75, 3, 0, 1.03};

  {
    auto store = create_hdf5_store(path, false);
    store->begin(info, sample_groups());
    store->upsert_trial(t0);
    store->upsert_trial(t1);
    store->upsert_trial(pending);
    for (const auto& m : metrics) store->append_metric(m);
    store->append_decision(d);
    store->append_transfer(x);
    // Status changes rewrite the trial's row in place.
    t1.status = TrialStatus::Stopped;
    t1.end_time = 1700000005.0;
    t1.last_step = 3;
    t1.best_metric = 1.03;
    t1.last_metric = 1.03;
    t1.device_seconds = 7.5;
    t1.reason = "asha: below the cutoff";
    t1.parent = 0;
    store->upsert_trial(t1);
    store->set_summary(SummaryRecord{});  // rewritten twice: the last one wins
    store->set_summary(summary);
    store->close();
  }

  const ExperimentData r = read_hdf5_experiment(path);
  EXPECT_EQ(r.info.schema_version, kSchemaVersion);
  EXPECT_EQ(r.info.mpitune_version, info.mpitune_version);
  EXPECT_EQ(r.info.name, info.name);
  EXPECT_EQ(r.info.command_line, info.command_line);
  EXPECT_EQ(r.info.config_text, info.config_text);
  EXPECT_EQ(r.info.seed, info.seed);
  EXPECT_EQ(r.info.metric, info.metric);
  EXPECT_EQ(r.info.mode, info.mode);
  EXPECT_EQ(r.info.scheduler, info.scheduler);
  EXPECT_EQ(r.info.searcher, info.searcher);
  EXPECT_EQ(r.info.trainable, info.trainable);
  EXPECT_EQ(r.info.world_size, info.world_size);
  EXPECT_EQ(r.info.group_size, info.group_size);
  EXPECT_EQ(r.info.num_groups, info.num_groups);
  EXPECT_EQ(r.info.device_kind, info.device_kind);
  EXPECT_EQ(r.info.start_time, info.start_time);
  EXPECT_EQ(r.info.model_init, info.model_init);
  EXPECT_EQ(r.info.model_path, info.model_path);
  EXPECT_EQ(r.info.architecture, info.architecture);
  EXPECT_EQ(r.info.tokenizer, info.tokenizer);
  EXPECT_EQ(r.info.params_total, info.params_total);
  EXPECT_EQ(r.info.params_trainable, info.params_trainable);
  EXPECT_EQ(r.info.keep_dir, info.keep_dir);

  ASSERT_EQ(r.info.space.size(), info.space.size());
  for (size_t i = 0; i < info.space.size(); ++i) {
    const Domain& a = info.space.domains()[i];
    const Domain& b = r.info.space.domains()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.kind, b.kind);
    if (!a.is_categorical()) {
      EXPECT_EQ(a.low, b.low);
      EXPECT_EQ(a.high, b.high);
    }
    EXPECT_EQ(a.values, b.values) << a.describe() << " vs " << b.describe();
  }

  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[1].group, 1);
  EXPECT_EQ(r.groups[1].ranks, "3,4");
  EXPECT_EQ(r.groups[1].hosts, "node01,node02");
  EXPECT_EQ(r.groups[1].devices, "cuda:0,cuda:1");

  ASSERT_EQ(r.trials.size(), 3u);  // the update did not add a row
  expect_same_trial(r.trials[0], t0);
  expect_same_trial(r.trials[1], t1);
  expect_same_trial(r.trials[2], pending);
  // Types survive: ints stay ints (stored as float64), 1.0 stays a double.
  EXPECT_TRUE(r.trials[0].hparams.at("n_layer").is_int());
  EXPECT_TRUE(r.trials[0].hparams.at("batch_size").is_int());
  EXPECT_TRUE(r.trials[0].hparams.at("warmup").is_double());
  EXPECT_TRUE(r.trials[0].hparams.at("optimizer").is_string());

  ASSERT_EQ(r.metrics.size(), metrics.size());
  for (size_t i = 0; i < metrics.size(); ++i) expect_same_metric(r.metrics[i], metrics[i]);

  ASSERT_EQ(r.decisions.size(), 1u);
  EXPECT_EQ(r.decisions[0].time, d.time);
  EXPECT_EQ(r.decisions[0].trial, d.trial);
  EXPECT_EQ(r.decisions[0].step, d.step);
  EXPECT_EQ(r.decisions[0].bracket, d.bracket);
  EXPECT_EQ(r.decisions[0].rung, d.rung);
  EXPECT_EQ(r.decisions[0].budget, d.budget);
  EXPECT_EQ(r.decisions[0].action, d.action);
  EXPECT_EQ(r.decisions[0].reason, d.reason);

  ASSERT_EQ(r.transfers.size(), 1u);
  EXPECT_EQ(r.transfers[0].time, x.time);
  EXPECT_EQ(r.transfers[0].source_trial, x.source_trial);
  EXPECT_EQ(r.transfers[0].source_group, x.source_group);
  EXPECT_EQ(r.transfers[0].target_trial, x.target_trial);
  EXPECT_EQ(r.transfers[0].target_group, x.target_group);
  EXPECT_EQ(r.transfers[0].step, x.step);
  EXPECT_EQ(r.transfers[0].bytes, x.bytes);
  EXPECT_EQ(r.transfers[0].seconds, x.seconds);
  EXPECT_EQ(r.transfers[0].old_hparams, x.old_hparams);
  EXPECT_EQ(r.transfers[0].new_hparams, x.new_hparams);
  EXPECT_EQ(r.transfers[0].payload, "adapters");
  EXPECT_EQ(r.transfers[0].via, "memory");
  EXPECT_EQ(r.transfers[0].old_values, x.old_values);
  EXPECT_EQ(r.transfers[0].new_values, x.new_values);

  EXPECT_EQ(r.summary.status, summary.status);
  EXPECT_EQ(r.summary.end_time, summary.end_time);
  EXPECT_EQ(r.summary.elapsed_s, summary.elapsed_s);
  EXPECT_EQ(r.summary.device_seconds, summary.device_seconds);
  EXPECT_EQ(r.summary.trials, summary.trials);
  EXPECT_EQ(r.summary.best_trial, summary.best_trial);
  EXPECT_EQ(r.summary.best_metric, summary.best_metric);
}

TEST(Hdf5Store, UpdatesKeepTheOrderTrialsWereFirstSeen) {
  TempDir dir;
  const std::string path = dir.file("order.h5");
  auto store = create_hdf5_store(path, false);
  store->begin(sample_info(), {});
  for (TrialId id : {5, 2, 9}) store->upsert_trial(running_trial(id, sample_hparams(1e-3, 3, 8, "adamw", 0.5)));
  TrialRecord again = running_trial(2, sample_hparams(2e-3, 5, 32, "sgd, momentum", 1.0));
  again.status = TrialStatus::Failed;
  again.reason = "non-finite loss at step 4";
  store->upsert_trial(again);
  store->close();

  const ExperimentData r = read_hdf5_experiment(path);
  ASSERT_EQ(r.trials.size(), 3u);
  EXPECT_EQ(r.trials[0].id, 5);
  EXPECT_EQ(r.trials[2].id, 9);
  expect_same_trial(r.trials[1], again);
  EXPECT_EQ(r.summary.status, "running");  // the row begin() writes until set_summary()
}

TEST(Hdf5Store, LongTextIsCutAtACharacterBoundary) {
  TempDir dir;
  const std::string path = dir.file("long.h5");
  std::string reason;
  // "é" is 2 bytes: 800 bytes in all, and the column's 511th byte is the first half of one.
  for (int i = 0; i < 400; ++i) reason += "\xC3\xA9";
  std::string host_list;
  for (int i = 0; i < 300; ++i) host_list += "node" + std::to_string(i) + ",";

  auto store = create_hdf5_store(path, false);
  GroupRecord g{0, "1", host_list, "cpu"};
  store->begin(sample_info(), {g});
  TrialRecord t = running_trial(0, sample_hparams(1e-3, 3, 8, "adamw", 0.5));
  t.reason = reason;
  store->upsert_trial(t);
  store->close();

  const ExperimentData r = read_hdf5_experiment(path);
  const std::string& got = r.trials.at(0).reason;
  EXPECT_EQ(got.size(), kH5ReasonBytes - 2);  // 511 bytes would end half-way through a "é"
  EXPECT_EQ(reason.compare(0, got.size(), got), 0);
  const std::string& hosts = r.groups.at(0).hosts;
  EXPECT_EQ(hosts.size(), kH5GroupTextBytes - 1);
  EXPECT_EQ(host_list.compare(0, hosts.size(), hosts), 0);
}

TEST(Hdf5Store, TextChoicesWiderThanTheDefaultColumnAreKeptWhole) {
  TempDir dir;
  const std::string path = dir.file("wide.h5");
  const std::string long_choice(150, 'q');
  ExperimentInfo info = sample_info();
  info.space = Space(std::vector<Domain>{testing::values_domain("mode", DomainKind::Choice, {"short", long_choice})});
  auto store = create_hdf5_store(path, false);
  store->begin(info, {});
  TrialRecord t;
  t.id = 0;
  t.hparams.set("mode", long_choice);
  store->upsert_trial(t);
  store->close();
  EXPECT_EQ(read_hdf5_experiment(path).trials.at(0).hparams.at("mode").as_string(), long_choice);
}

TEST(Utf8, TruncatesOnlyBetweenCharacters) {
  EXPECT_EQ(truncate_utf8("abc", 3), "abc");
  EXPECT_EQ(truncate_utf8("abc", 2), "ab");
  EXPECT_EQ(truncate_utf8("a\xC3\xA9", 2), "a");           // would split é
  EXPECT_EQ(truncate_utf8("a\xC3\xA9", 3), "a\xC3\xA9");
  EXPECT_EQ(truncate_utf8("\xF0\x9F\x98\x80z", 3), "");      // would split a 4-byte emoji
  EXPECT_EQ(truncate_utf8("\xF0\x9F\x98\x80z", 4), "\xF0\x9F\x98\x80");
  EXPECT_EQ(truncate_utf8("abc", 0), "");
}

TEST(Hdf5Store, RejectsCallsOutOfOrderAndUnknownHyperparameters) {
  TempDir dir;
  auto store = create_hdf5_store(dir.file("order.h5"), false);
  EXPECT_THROW(store->append_metric(MetricRecord{}), InfraError);  // before begin()
  store->begin(sample_info(), {});
  EXPECT_THROW(store->begin(sample_info(), {}), InfraError);
  TrialRecord t;
  t.id = 1;
  t.hparams.set("not_in_space", 1.0);
  EXPECT_THROW(store->upsert_trial(t), InfraError);
  TrialRecord text_in_numeric;
  text_in_numeric.id = 2;
  text_in_numeric.hparams.set("lr", "fast");
  EXPECT_THROW(store->upsert_trial(text_in_numeric), InfraError);
  store->close();
  EXPECT_THROW(store->flush(), InfraError);
  EXPECT_NO_THROW(store->close());  // closing twice is harmless
}

TEST(Hdf5Store, HyperparameterNamedLikeAFixedColumnIsAConfigError) {
  TempDir dir;
  ExperimentInfo info = sample_info();
  info.space = Space(std::vector<Domain>{testing::range_domain("status", DomainKind::Uniform, 0, 1)});
  EXPECT_THROW(check_result_columns(info.space), ConfigError);
  EXPECT_NO_THROW(check_result_columns(sample_info().space));
  auto store = create_hdf5_store(dir.file("clash.h5"), false);
  try {
    store->begin(info, {});
    FAIL() << "begin() accepted a hyperparameter named 'status'";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "space.status");
  }
}

TEST(Hdf5Store, CreatesParentDirectoriesAndRefusesToReplaceWithoutOverwrite) {
  TempDir dir;
  const std::string path = dir.file("a/b/run.h5");
  {
    auto store = create_hdf5_store(path, false);
    store->begin(sample_info(), {});
    store->close();
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  const auto size_before = std::filesystem::file_size(path);
  EXPECT_THROW(create_hdf5_store(path, false), ConfigError);
  EXPECT_EQ(std::filesystem::file_size(path), size_before);
  EXPECT_EQ(read_hdf5_experiment(path).info.name, "unit");  // still intact

  ExperimentInfo other = sample_info();
  other.name = "second";
  auto store = create_hdf5_store(path, true);
  store->begin(other, {});
  store->close();
  EXPECT_EQ(read_hdf5_experiment(path).info.name, "second");
}

// ---- the reader's errors ----

TEST(Hdf5Reader, MissingAndNonHdf5FilesAreConfigErrorsNamingTheFile) {
  TempDir dir;
  try {
    read_hdf5_experiment(dir.file("absent.h5"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), dir.file("absent.h5"));
  }
  testing::write_file(dir.file("text.h5"), "not hdf5 at all\n");
  try {
    read_hdf5_experiment(dir.file("text.h5"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), dir.file("text.h5"));
    EXPECT_NE(std::string(e.what()).find("not an HDF5 file"), std::string::npos) << e.what();
  }
}

TEST(Hdf5Reader, Hdf5FileWithoutOurAttributesIsNotAResultFile) {
  TempDir dir;
  const std::string path = dir.file("empty.h5");
  create_hdf5_store(path, false)->close();  // an HDF5 file, but begin() never wrote the schema
  try {
    read_hdf5_experiment(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), path);
    EXPECT_NE(std::string(e.what()).find("not an mpitune result file"), std::string::npos) << e.what();
  }
}

TEST(Hdf5Reader, RefusesANewerSchemaVersion) {
  TempDir dir;
  const std::string path = dir.file("future.h5");
  ExperimentInfo info = sample_info();
  info.schema_version = kSchemaVersion + 1;
  auto store = create_hdf5_store(path, false);
  store->begin(info, {});
  store->close();
  try {
    read_hdf5_experiment(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), path);
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST(Hdf5Reader, ATruncatedFileIsRefusedWithHdf5sOwnReason) {
  TempDir dir;
  const std::string path = dir.file("cut.h5");
  auto store = create_hdf5_store(path, false);
  store->begin(sample_info(), sample_groups());
  store->close();
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  try {
    read_hdf5_experiment(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), path);
    // The innermost message of HDF5's error stack, not a generic "open failed".
    EXPECT_NE(std::string(e.what()).find("truncated file"), std::string::npos) << e.what();
    // ... and the advice for a damaged file, not the one for a lock ("sblock" is no lock).
    EXPECT_NE(std::string(e.what()).find("the file is damaged"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("without SWMR"), std::string::npos) << e.what();
  }
}

// A file written by mpitune 0.1 (schema 1: no model attributes, parameter columns or transfer
// payload, nor anything of schema 3; tests/python/write_sample_results of that version) still
// reads, those fields empty or at their documented defaults.
TEST(Hdf5Store, ReadsSchemaOneFiles) {
  const std::string path = std::string(MPITUNE_SOURCE_DIR) + "/tests/data/schema1_sample.h5";
  const ExperimentData d = read_hdf5_experiment(path);
  EXPECT_EQ(d.path, path);
  EXPECT_EQ(d.info.schema_version, 1);
  EXPECT_EQ(d.info.world_size, 5);
  EXPECT_EQ(d.info.devices, 4);  // world_size - 1: the coordinator is no device
  EXPECT_EQ(d.info.max_t, 0);
  for (const auto& t : d.trials) EXPECT_EQ(t.metric_step, -1);
  // Integer hyperparameters, float64 columns in that schema, come back as ints.
  for (const auto& t : d.trials) EXPECT_TRUE(t.hparams.at("n_layer").is_int()) << t.hparams.to_string();
  for (const auto& m : d.metrics) EXPECT_TRUE(std::isnan(m.retention_loss));
  EXPECT_EQ(d.summary.best_budget, 0);
  EXPECT_EQ(d.summary.best_any_trial, -1);
  EXPECT_TRUE(std::isnan(d.summary.best_any_metric));
  EXPECT_TRUE(d.finals.empty());
  EXPECT_TRUE(d.final_documents.empty());
  EXPECT_EQ(d.info.model_path, "");
  EXPECT_EQ(d.info.params_total, 0);
  ASSERT_EQ(d.trials.size(), 3u);
  for (const auto& t : d.trials) EXPECT_EQ(t.params_trainable, 0);
  ASSERT_EQ(d.transfers.size(), 1u);
  EXPECT_EQ(d.transfers[0].payload, "");
  // No via column before schema 4: read from source_group (a group sent it, or its files did).
  EXPECT_EQ(d.transfers[0].via, d.transfers[0].source_group >= 0 ? "ranks" : "files");
  EXPECT_TRUE(d.transfers[0].old_values.empty());
  EXPECT_TRUE(d.transfers[0].new_values.empty());
  EXPECT_GT(d.transfers[0].bytes, 0);
  EXPECT_FALSE(d.metrics.empty());
}

}  // namespace
}  // namespace mpitune
