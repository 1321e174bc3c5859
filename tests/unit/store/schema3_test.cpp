// Schema 3 of the result file: the new attributes, columns and tables written and read back,
// integer hyperparameters in int64 columns, the typed old/new values of /pbt_transfers, and
// files of schema 1 and 2 (which lack all of that) still read with the documented defaults.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mpitune/core/error.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "store_fixtures.hpp"
#include "support/store/hdf5_edit.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::expect_same_final;
using testing::expect_same_metric;
using testing::expect_same_trial;
using testing::range_domain;
using testing::sample_hparams;
using testing::sample_info;
using testing::TempDir;
using testing::values_domain;

FinalRecord final_row(const std::string& label, TrialId trial, double test_loss) {
  FinalRecord f;
  f.label = label;
  f.trial = trial;
  f.step = trial < 0 ? 0 : 27;
  f.hparams = trial < 0 ? "" : "lr=0.001 n_layer=4";
  f.eval_loss = test_loss - 0.0625;
  f.test_loss = test_loss;
  f.test_ci_low = test_loss - 0.25;
  f.test_ci_high = test_loss + 0.375;
  f.test_documents = 2;
  f.test_tokens = 50;
  f.bootstrap = 1000;
  f.retention_loss = 3.125;
  f.seconds = 1.5;
  return f;
}

TEST(Schema3, EveryNewFieldAndTableRoundTrips) {
  TempDir dir;
  const std::string path = dir.file("v3.h5");
  ExperimentInfo info = sample_info();
  info.devices = 3;  // not world_size - 1 (4): the attribute, not the default, is read
  info.max_t = 81;

  TrialRecord early;
  early.id = 0;
  early.status = TrialStatus::EarlyStopped;
  early.hparams = sample_hparams(1e-3, 4, 16, "adamw", 1.0);
  early.last_step = 30;
  early.best_metric = 1.25;
  early.last_metric = 1.5;
  early.metric_step = 27;  // the last eval point, before the last step
  early.reason = "no improvement of more than 0.01 in 3 evaluations";
  TrialRecord fresh;  // no metric yet
  fresh.id = 1;
  fresh.status = TrialStatus::Running;
  fresh.hparams = sample_hparams(2e-3, 2, 8, "sgd, momentum", 0.5);

  MetricRecord evaluated;
  evaluated.trial = 0;
  evaluated.step = 27;
  evaluated.time = 1700000003.0;
  evaluated.eval_loss = 1.5;
  evaluated.retention_loss = 3.375;
  MetricRecord not_evaluated = evaluated;
  not_evaluated.step = 30;
  not_evaluated.eval_loss = kNaN;
  not_evaluated.retention_loss = kNaN;

  SummaryRecord summary{"finished", 1700000010.0, 9.5, 47.5, 2, 0, 1.5, 27, 0, 1.25};
  const std::vector<FinalRecord> finals = {final_row("best", 0, 1.625), final_row("base", -1, 3.0)};
  const std::vector<FinalDocumentRecord> best_docs = {{"best", 0, 40.5, 30}, {"best", 1, 30.0, 20}};
  const std::vector<FinalDocumentRecord> base_docs = {{"base", 0, 90.0, 30}, {"base", 1, 60.25, 20}};
  {
    auto store = create_hdf5_store(path, false);
    store->begin(info, {});
    store->upsert_trial(early);
    store->upsert_trial(fresh);
    store->append_metric(evaluated);
    store->append_metric(not_evaluated);
    store->set_summary(summary);
    store->append_final(finals[0], best_docs);
    store->append_final(finals[1], base_docs);
    store->close();
  }

  const ExperimentData r = read_hdf5_experiment(path);
  EXPECT_EQ(r.path, path);
  EXPECT_EQ(r.info.schema_version, kSchemaVersion);
  EXPECT_EQ(r.info.devices, 3);
  EXPECT_EQ(r.info.max_t, 81);

  ASSERT_EQ(r.trials.size(), 2u);
  expect_same_trial(r.trials[0], early);
  expect_same_trial(r.trials[1], fresh);
  EXPECT_EQ(r.trials[0].status, TrialStatus::EarlyStopped);  // "early_stopped" fits the column whole
  EXPECT_EQ(r.trials[1].metric_step, -1);

  ASSERT_EQ(r.metrics.size(), 2u);
  expect_same_metric(r.metrics[0], evaluated);
  expect_same_metric(r.metrics[1], not_evaluated);

  EXPECT_EQ(r.summary.best_trial, 0);
  EXPECT_EQ(r.summary.best_metric, 1.5);
  EXPECT_EQ(r.summary.best_budget, 27);
  EXPECT_EQ(r.summary.best_any_trial, 0);
  EXPECT_EQ(r.summary.best_any_metric, 1.25);

  ASSERT_EQ(r.finals.size(), 2u);
  expect_same_final(r.finals[0], finals[0]);
  expect_same_final(r.finals[1], finals[1]);
  ASSERT_EQ(r.final_documents.size(), 4u);
  std::vector<FinalDocumentRecord> all_docs = best_docs;
  all_docs.insert(all_docs.end(), base_docs.begin(), base_docs.end());
  for (size_t i = 0; i < all_docs.size(); ++i) {
    EXPECT_EQ(r.final_documents[i].label, all_docs[i].label);
    EXPECT_EQ(r.final_documents[i].document, all_docs[i].document);
    EXPECT_EQ(r.final_documents[i].loss_sum, all_docs[i].loss_sum);
    EXPECT_EQ(r.final_documents[i].tokens, all_docs[i].tokens);
  }
}

TEST(Schema3, FinalTablesAreEmptyWithoutAnEvaluationOnTheTestSplit) {
  TempDir dir;
  const std::string path = dir.file("nofinal.h5");
  auto store = create_hdf5_store(path, false);
  store->begin(sample_info(), {});
  store->close();
  const ExperimentData r = read_hdf5_experiment(path);
  EXPECT_TRUE(r.finals.empty());
  EXPECT_TRUE(r.final_documents.empty());
  EXPECT_EQ(r.summary.best_budget, 0);
  EXPECT_EQ(r.summary.best_any_trial, -1);
  EXPECT_TRUE(std::isnan(r.summary.best_any_metric));
}

TEST(Schema3, DocumentsTakeTheLabelOfTheirFinalRowAndMustNotNameAnother) {
  TempDir dir;
  const std::string path = dir.file("labels.h5");
  auto store = create_hdf5_store(path, false);
  store->begin(sample_info(), {});
  store->append_final(final_row("best", 0, 1.0), {{"", 0, 2.0, 2}});
  // A document of another row, an empty label and one the column would cut: nothing is written.
  EXPECT_THROW(store->append_final(final_row("retrain", 0, 1.0), {{"retrain", 0, 1.0, 1}, {"best", 1, 1.0, 1}}),
               InfraError);
  EXPECT_THROW(store->append_final(final_row("", 0, 1.0), {}), InfraError);
  EXPECT_THROW(store->append_final(final_row(std::string(kH5NameBytes, 'x'), 0, 1.0), {}), InfraError);
  store->close();
  const ExperimentData r = read_hdf5_experiment(path);
  ASSERT_EQ(r.finals.size(), 1u);
  EXPECT_EQ(r.finals[0].label, "best");
  ASSERT_EQ(r.final_documents.size(), 1u);
  EXPECT_EQ(r.final_documents[0].label, "best");
}

// Integer domains get int64 columns (h5dump and the python test see the column types); here:
// values come back as ints of the same value, integral doubles are stored as integers, and a
// fractional value for an integer domain is refused rather than rounded.
TEST(Schema3, IntegerHyperparametersAreStoredAsIntegers) {
  TempDir dir;
  const std::string path = dir.file("ints.h5");
  ExperimentInfo info = sample_info();
  info.space = Space(std::vector<Domain>{
      range_domain("warmup_steps", DomainKind::Int, 0, 1000000),
      values_domain("tokens", DomainKind::Choice, {int64_t{1}, int64_t{1} << 40}),
      values_domain("mixed", DomainKind::Grid, {1.0, 0.5}),  // not all integers: doubles, float64
      values_domain("optimizer", DomainKind::Choice, {"adamw", "sgd"}),
  });
  HParams hp;
  hp.set("warmup_steps", 999999);
  hp.set("tokens", int64_t{1} << 40);
  hp.set("mixed", 1.0);
  hp.set("optimizer", "sgd");
  HParams as_double = hp;
  as_double.set("warmup_steps", 4096.0);
  as_double.set("mixed", 0.5);
  {
    auto store = create_hdf5_store(path, false);
    store->begin(info, {});
    TrialRecord t;
    t.id = 0;
    t.hparams = hp;
    store->upsert_trial(t);
    t.id = 1;
    t.hparams = as_double;
    store->upsert_trial(t);
    t.id = 2;
    t.hparams.set("warmup_steps", 2.5);
    EXPECT_THROW(store->upsert_trial(t), InfraError);
    store->close();
  }
  const ExperimentData r = read_hdf5_experiment(path);
  ASSERT_EQ(r.trials.size(), 2u);
  EXPECT_EQ(r.trials[0].hparams, hp) << r.trials[0].hparams.to_string();
  EXPECT_TRUE(r.trials[0].hparams.at("tokens").is_int());
  EXPECT_TRUE(r.trials[0].hparams.at("mixed").is_double());  // 1.0 stays a double
  const HParams& second = r.trials[1].hparams;
  EXPECT_TRUE(second.at("warmup_steps").is_int());
  EXPECT_EQ(second.at("warmup_steps").as_int(), 4096);
  EXPECT_TRUE(second.at("mixed").is_double());
  EXPECT_EQ(second.at("mixed").as_double(), 0.5);
}

TEST(Schema3, TransfersHaveTypedOldAndNewValuesBesideTheText) {
  TempDir dir;
  const std::string path = dir.file("pbt.h5");
  const HParams old_values = sample_hparams(1e-3, 4, 16, "adamw", 1.0);
  HParams new_values = sample_hparams(1.25e-3, 4, 32, "sgd, momentum", 0.5);
  TransferRecord typed{1700000006.0, 0, 0, 1, 1, 9, 4096, 0.25, old_values.to_string(), new_values.to_string(),
                       "model", old_values, new_values, "ranks"};
  TransferRecord untyped = typed;  // a transfer recorded without the values: every column unset
  untyped.old_values = HParams{};
  untyped.new_values = HParams{};
  {
    auto store = create_hdf5_store(path, false);
    store->begin(sample_info(), {});
    store->append_transfer(typed);
    store->append_transfer(untyped);
    TransferRecord unknown = typed;
    unknown.new_values.set("momentum", 0.9);
    EXPECT_THROW(store->append_transfer(unknown), InfraError);
    store->close();
  }
  const ExperimentData r = read_hdf5_experiment(path);
  ASSERT_EQ(r.transfers.size(), 2u);
  EXPECT_EQ(r.transfers[0].old_values, old_values) << r.transfers[0].old_values.to_string();
  EXPECT_EQ(r.transfers[0].new_values, new_values) << r.transfers[0].new_values.to_string();
  EXPECT_TRUE(r.transfers[0].new_values.at("batch_size").is_int());
  EXPECT_EQ(r.transfers[0].old_hparams, old_values.to_string());
  EXPECT_EQ(r.transfers[0].new_hparams, new_values.to_string());
  EXPECT_TRUE(r.transfers[1].old_values.empty()) << r.transfers[1].old_values.to_string();
  EXPECT_TRUE(r.transfers[1].new_values.empty());
}

TEST(Schema3, AHyperparameterNamedMetricStepIsAConfigError) {
  const Space space(std::vector<Domain>{range_domain("metric_step", DomainKind::Int, 1, 9)});
  EXPECT_THROW(check_result_columns(space), ConfigError);
}

// A file as mpitune of schema 2 wrote it: the sample file with every schema-3 attribute,
// column and table removed, and the integer hyperparameters in float64 columns.
void make_schema_two(const std::string& path) {
  using hdf5_edit::ValueKind;
  hdf5_edit::replace_root_attribute(path, "schema_version", ValueKind::Int32, 0, 2);
  hdf5_edit::remove_root_attribute(path, "devices");
  hdf5_edit::remove_root_attribute(path, "max_t");
  hdf5_edit::rewrite_columns(path, "/trials", {"metric_step"}, {"n_layer", "batch_size"});
  hdf5_edit::rewrite_columns(path, "/metrics", {"retention_loss"});
  hdf5_edit::rewrite_columns(path, "/summary", {"best_budget", "best_any_trial", "best_any_metric"});
  std::vector<std::string> typed_values;
  const Space space = testing::sample_space();
  for (const auto& d : space.domains()) {
    typed_values.push_back("old." + d.name);
    typed_values.push_back("new." + d.name);
  }
  hdf5_edit::rewrite_columns(path, "/pbt_transfers", typed_values);
  hdf5_edit::remove_dataset(path, "/final");
  hdf5_edit::remove_dataset(path, "/final_documents");
  hdf5_edit::remove_dataset(path, "/events");  // schema 4
  hdf5_edit::remove_dataset(path, "/segments");
}

TEST(Schema3, ReadsSchemaTwoFilesWithTheDefaultsOfTheMissingFields) {
  TempDir dir;
  const std::string path = dir.file("v2.h5");
  testing::write_sample_result_file(path);
  const ExperimentData v3 = read_hdf5_experiment(path);
  ASSERT_FALSE(v3.finals.empty());  // the edit below has something to remove
  ASSERT_FALSE(v3.transfers.at(0).new_values.empty());
  make_schema_two(path);

  const ExperimentData r = read_hdf5_experiment(path);
  EXPECT_EQ(r.info.schema_version, 2);
  EXPECT_EQ(r.info.devices, r.info.world_size - 1);
  EXPECT_EQ(r.info.max_t, 0);
  ASSERT_EQ(r.trials.size(), v3.trials.size());
  for (size_t i = 0; i < r.trials.size(); ++i) {
    EXPECT_EQ(r.trials[i].metric_step, -1);
    // From float64 columns, the integers come back as ints all the same.
    EXPECT_EQ(r.trials[i].hparams, v3.trials[i].hparams) << r.trials[i].hparams.to_string();
    EXPECT_TRUE(r.trials[i].hparams.at("n_layer").is_int());
    EXPECT_EQ(r.trials[i].status, v3.trials[i].status);
  }
  ASSERT_EQ(r.metrics.size(), v3.metrics.size());
  for (const auto& m : r.metrics) EXPECT_TRUE(std::isnan(m.retention_loss));
  EXPECT_EQ(r.summary.best_trial, v3.summary.best_trial);
  EXPECT_EQ(r.summary.best_budget, 0);
  EXPECT_EQ(r.summary.best_any_trial, -1);
  EXPECT_TRUE(std::isnan(r.summary.best_any_metric));
  ASSERT_EQ(r.transfers.size(), v3.transfers.size());
  EXPECT_TRUE(r.transfers[0].old_values.empty());
  EXPECT_TRUE(r.transfers[0].new_values.empty());
  EXPECT_EQ(r.transfers[0].new_hparams, v3.transfers[0].new_hparams);
  EXPECT_TRUE(r.finals.empty());
  EXPECT_TRUE(r.final_documents.empty());
  EXPECT_TRUE(r.events.empty());
  EXPECT_TRUE(r.segments.empty());
}

// An unwritten last row is still told from a written one in a file that lacks a column whose
// absent value is not zero (metric_step reads as -1 there, after the all-zero check).
TEST(Schema3, UnwrittenRowsOfOldFilesAreStillSkipped) {
  TempDir dir;
  const std::string path = dir.file("v2cut.h5");
  testing::write_sample_result_file(path);
  make_schema_two(path);
  const size_t trials = read_hdf5_experiment(path).trials.size();
  hdf5_edit::set_table_rows(path, "/trials", trials + 1);
  ::testing::internal::CaptureStderr();
  const ExperimentData r = read_hdf5_experiment(path);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.trials.size(), trials);
  EXPECT_NE(err.find("/trials: skipped the last row, all zero"), std::string::npos) << err;
}

}  // namespace
}  // namespace mpitune
