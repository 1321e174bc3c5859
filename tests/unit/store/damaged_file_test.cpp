// The reader on files mpitune never writes but disks, copies and hand edits make: attributes
// and tables of the wrong shape or type, rows the writer did not finish, damaged metadata. Each
// is one clear ConfigError or InfraError line, or a read that skips what was never written,
// never a crash or a hang. Reads that a regression could turn into a crash run in a forked
// child (corruption_fuzz.hpp), so the suite reports them instead of dying.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "corruption_fuzz.hpp"
#include "mpitune/core/error.hpp"
#include "support/store/hdf5_edit.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "store_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using hdf5_edit::ValueKind;
using testing::read_in_child;
using testing::ReadOutcome;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class DamagedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("run.h5");
    testing::write_sample_result_file(path_);
    original_ = read_hdf5_experiment(path_);
  }

  // Reads in a child; expects a ConfigError naming the file and containing `part`.
  void expect_refused(const std::string& part) {
    const testing::IsolatedRead r = read_in_child(path_, 10);
    EXPECT_STREQ(testing::outcome_name(r.outcome), "ConfigError") << r.message;
    EXPECT_EQ(r.message.rfind(path_ + ": ", 0), 0u) << r.message;
    EXPECT_TRUE(contains(r.message, part)) << r.message;
    EXPECT_EQ(r.child_stderr, "");
  }

  // Reads in this process with stderr captured.
  ExperimentData read_capturing_stderr(std::string* err) {
    ::testing::internal::CaptureStderr();
    try {
      ExperimentData d = read_hdf5_experiment(path_);
      *err = ::testing::internal::GetCapturedStderr();
      return d;
    } catch (...) {
      *err = ::testing::internal::GetCapturedStderr();
      throw;
    }
  }

  testing::TempDir dir_;
  std::string path_;
  ExperimentData original_;
};

// ---- root attributes ----

TEST_F(DamagedFile, AnAttributeStoredAsAnArrayIsRefusedNotRead) {
  // world_size with 3 values smashed report's stack: it was read into one int64.
  hdf5_edit::replace_root_attribute(path_, "world_size", ValueKind::Int32, 3);
  expect_refused("root attribute 'world_size' holds 3 values (rank 1) where the schema has a single integer");
}

TEST_F(DamagedFile, ArraysOfEveryAttributeKindAreRefused) {
  const std::pair<const char*, ValueKind> cases[] = {{"seed", ValueKind::Int64},
                                                     {"start_time", ValueKind::Float64},
                                                     {"name", ValueKind::String},
                                                     {"metric", ValueKind::FixedString},
                                                     {"params_total", ValueKind::Int64}};
  for (const auto& [name, kind] : cases) {
    SCOPED_TRACE(name);
    testing::write_sample_result_file(path_);
    hdf5_edit::replace_root_attribute(path_, name, kind, 4);
    expect_refused(std::string("root attribute '") + name + "' holds 4 values");
  }
}

TEST_F(DamagedFile, AttributesOfTheWrongTypeClassAreRefused) {
  hdf5_edit::replace_root_attribute(path_, "world_size", ValueKind::String, 0);
  expect_refused("root attribute 'world_size' is a string where the schema has an integer");
  testing::write_sample_result_file(path_);
  hdf5_edit::replace_root_attribute(path_, "mode", ValueKind::Float64, 0);
  expect_refused("root attribute 'mode' is a floating-point number where the schema has a string");
  testing::write_sample_result_file(path_);
  hdf5_edit::replace_root_attribute(path_, "group_size", ValueKind::Float64, 0);
  expect_refused("root attribute 'group_size' is a floating-point number where the schema has an integer");
}

TEST_F(DamagedFile, OneValueAttributesOfOtherStorageStillRead) {
  // What h5py writes for attrs["world_size"] = [7], a 64-bit world size, a fixed-length
  // string and an integer start time: one value each, read as the schema's types.
  hdf5_edit::replace_root_attribute(path_, "world_size", ValueKind::Int64, 1);
  hdf5_edit::replace_root_attribute(path_, "name", ValueKind::FixedString, 0);
  hdf5_edit::replace_root_attribute(path_, "start_time", ValueKind::Int64, 0);
  const ExperimentData d = read_hdf5_experiment(path_);
  EXPECT_EQ(d.info.world_size, 7);
  EXPECT_EQ(d.info.name, "seven");
  EXPECT_EQ(d.info.start_time, 7.0);
  EXPECT_EQ(d.trials.size(), original_.trials.size());
}

TEST_F(DamagedFile, AnIntegerAttributeBeyondInt32IsRefused) {
  hdf5_edit::replace_root_attribute(path_, "num_groups", ValueKind::Int64, 0, 7);  // 64-bit, fits
  EXPECT_EQ(read_hdf5_experiment(path_).info.num_groups, 7);
  hdf5_edit::replace_root_attribute(path_, "num_groups", ValueKind::Int64, 0, int64_t{1} << 40);
  expect_refused("root attribute 'num_groups' = 1099511627776 does not fit a 32-bit integer");
  // schema_version is compared as read, before it narrows: 2^32 + 2 is not version 2.
  testing::write_sample_result_file(path_);
  hdf5_edit::replace_root_attribute(path_, "schema_version", ValueKind::Int64, 0, (int64_t{1} << 32) + 2);
  expect_refused("has schema version 4294967298, newer than this mpitune reads");
}

// ---- tables ----

TEST_F(DamagedFile, ATableThatIsNotOneDimensionalIsRefused) {
  hdf5_edit::replace_with_array(path_, "/metrics", {4, 9});
  expect_refused("table /metrics is not one-dimensional");
  testing::write_sample_result_file(path_);
  hdf5_edit::replace_with_array(path_, "/decisions", {});
  expect_refused("table /decisions is not one-dimensional");
}

TEST_F(DamagedFile, ATableWithoutCompoundRowsIsRefused) {
  hdf5_edit::replace_with_array(path_, "/groups", {3});
  expect_refused("table /groups does not hold compound rows");
}

TEST_F(DamagedFile, AColumnOfTheWrongTypeOrAMissingColumnIsRefused) {
  std::vector<std::pair<std::string, ValueKind>> metrics = {
      {"trial", ValueKind::Int64},  {"step", ValueKind::FixedString}, {"time", ValueKind::Float64},
      {"train_loss", ValueKind::Float64}, {"eval_loss", ValueKind::Float64}, {"lr", ValueKind::Float64},
      {"tokens", ValueKind::Int64}, {"throughput", ValueKind::Float64}, {"loss_scale", ValueKind::Float64}};
  hdf5_edit::replace_table(path_, "/metrics", metrics, 2);
  expect_refused("table /metrics: column 'step' is not a standard integer");

  metrics[1].second = ValueKind::String;  // the right class, but variable-length
  metrics[0].second = ValueKind::String;
  hdf5_edit::replace_table(path_, "/metrics", metrics, 2);
  expect_refused("table /metrics: column 'trial' is not a standard integer");

  metrics[0].second = ValueKind::Int64;
  metrics[1].second = ValueKind::Int32;  // a narrower integer converts
  metrics.erase(metrics.begin() + 2);    // no time
  hdf5_edit::replace_table(path_, "/metrics", metrics, 2);
  expect_refused("table /metrics has no column 'time'");

  metrics.insert(metrics.begin() + 2, {"time", ValueKind::Int64});  // an integer time
  hdf5_edit::replace_table(path_, "/metrics", metrics, 2);
  expect_refused("table /metrics: column 'time' is not an IEEE floating-point number");
}

TEST_F(DamagedFile, AWellFormedReplacementTableReads) {
  // The same checks accept a table another program wrote with the schema's columns.
  const std::vector<std::pair<std::string, ValueKind>> metrics = {
      {"trial", ValueKind::Int64},  {"step", ValueKind::Int32},          {"time", ValueKind::Float64},
      {"train_loss", ValueKind::Float64}, {"eval_loss", ValueKind::Float64}, {"lr", ValueKind::Float64},
      {"tokens", ValueKind::Int64}, {"throughput", ValueKind::Float64}, {"loss_scale", ValueKind::Float64}};
  hdf5_edit::replace_table(path_, "/metrics", metrics, 3);
  const ExperimentData d = read_hdf5_experiment(path_);
  ASSERT_EQ(d.metrics.size(), 3u);
  EXPECT_EQ(d.metrics[2].trial, 7);
  EXPECT_EQ(d.metrics[2].step, 7);
  EXPECT_EQ(d.metrics[2].eval_loss, 7.5);
}

TEST_F(DamagedFile, AnExtentLargerThanTheFileIsRefusedBeforeAnyAllocation) {
  hdf5_edit::set_table_rows(path_, "/metrics", size_t{1} << 40);
  // A /metrics row: 10 numbers of 8 bytes (schema 3 added retention_loss).
  expect_refused("table /metrics claims 1099511627776 rows of 80 bytes, more than the");
}

// ---- partial rows ----

TEST_F(DamagedFile, UnwrittenRowsAtTheEndOfATableAreSkippedWithOneWarning) {
  // What a writer that extended /trials and then met a full disk left before this fix.
  hdf5_edit::set_table_rows(path_, "/trials", original_.trials.size() + 1);
  hdf5_edit::set_table_rows(path_, "/metrics", original_.metrics.size() + 3);
  std::string err;
  const ExperimentData d = read_capturing_stderr(&err);
  ASSERT_EQ(d.trials.size(), original_.trials.size());
  for (size_t i = 0; i < d.trials.size(); ++i) testing::expect_same_trial(d.trials[i], original_.trials[i]);
  EXPECT_EQ(d.metrics.size(), original_.metrics.size());
  EXPECT_EQ(err,
            "mpitune: warning: " + path_ +
                ": /trials: skipped the last row, all zero: the table was extended for it but the data never "
                "reached the disk (a full disk or a crash)\n"
                "mpitune: warning: " + path_ +
                ": /metrics: skipped the last 3 rows, all zero: the table was extended for them but the data "
                "never reached the disk (a full disk or a crash)\n");
}

TEST_F(DamagedFile, EveryTableSkipsItsUnwrittenLastRow) {
  const std::pair<const char*, size_t> tables[] = {{"/space", original_.info.space.size()},
                                                   {"/decisions", original_.decisions.size()},
                                                   {"/pbt_transfers", original_.transfers.size()},
                                                   {"/groups", original_.groups.size()},
                                                   {"/summary", 1},
                                                   {"/final", original_.finals.size()},
                                                   {"/final_documents", original_.final_documents.size()},
                                                   {"/events", testing::event_rows(original_.events)},
                                                   {"/segments", original_.segments.size()}};
  for (const auto& [table, rows] : tables) {
    SCOPED_TRACE(table);
    testing::write_sample_result_file(path_);
    hdf5_edit::set_table_rows(path_, table, rows + 1);
    std::string err;
    const ExperimentData d = read_capturing_stderr(&err);
    EXPECT_EQ(d.info.space.size(), original_.info.space.size());
    EXPECT_EQ(d.decisions.size(), original_.decisions.size());
    EXPECT_EQ(d.transfers.size(), original_.transfers.size());
    EXPECT_EQ(d.groups.size(), original_.groups.size());
    EXPECT_EQ(d.summary.status, "finished");
    EXPECT_EQ(d.finals.size(), original_.finals.size());
    EXPECT_EQ(d.final_documents.size(), original_.final_documents.size());
    EXPECT_EQ(d.events.size(), original_.events.size());
    EXPECT_EQ(d.segments.size(), original_.segments.size());
    EXPECT_TRUE(contains(err, std::string(": ") + table + ": skipped the last row, all zero")) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

TEST_F(DamagedFile, ALastRowThatDoesNotParseIsSkippedWithAWarning) {
  const size_t last = original_.trials.size() - 1;
  hdf5_edit::write_string_cell(path_, "/trials", last, "status", "runn");  // the disk got part of it
  std::string err;
  const ExperimentData d = read_capturing_stderr(&err);
  EXPECT_EQ(d.trials.size(), last);
  EXPECT_EQ(err, "mpitune: warning: " + path_ +
                     ": /trials: skipped the last row, which does not parse (unknown trial status 'runn'): the "
                     "disk got only part of it\n");
}

TEST_F(DamagedFile, ARowThatDoesNotParseBeforeTheLastIsRefused) {
  hdf5_edit::write_string_cell(path_, "/trials", 1, "status", "stop\nped");
  // The message quotes the damaged text with its control byte escaped: still one line.
  expect_refused("table /trials: row 1 does not parse: unknown trial status 'stop\\x0aped'");
}

TEST_F(DamagedFile, AnAllZeroRowBeforeTheLastIsNotSkipped) {
  // Two unwritten rows, then the last one written: the zero row is in the middle now.
  const size_t n = original_.trials.size();
  hdf5_edit::set_table_rows(path_, "/trials", n + 2);
  hdf5_edit::write_string_cell(path_, "/trials", n + 1, "status", "completed");
  expect_refused("table /trials: row " + std::to_string(n) + " does not parse: unknown trial status ''");
}

// ---- damaged metadata ----

TEST_F(DamagedFile, ADamagedMetadataBlockIsAnErrorWithinASecondNotAHang) {
  // One byte inside the first object header (the root group's), past its signature: its
  // checksum fails. With HDF5's default 100 SWMR read attempts and their doubling sleeps the
  // read took minutes; the child is killed after 10 s.
  std::string bytes = testing::read_file_bytes(path_);
  const size_t header = bytes.find("OHDR");
  ASSERT_NE(header, std::string::npos);
  bytes[header + 40] = static_cast<char>(bytes[header + 40] ^ 0x10);
  testing::write_file_bytes(path_, bytes);
  const testing::IsolatedRead r = read_in_child(path_, 10);
  EXPECT_TRUE(r.outcome == ReadOutcome::ConfigError || r.outcome == ReadOutcome::InfraError)
      << testing::outcome_name(r.outcome) << ": " << r.message;
  EXPECT_TRUE(contains(r.message, "checksum")) << r.message;
  EXPECT_LT(r.seconds, 1.0);
  EXPECT_EQ(r.child_stderr, "");
}

TEST_F(DamagedFile, ADamagedGlobalHeapIsRefusedBeforeHdf5CopiesPastItsBuffer) {
  // The root attributes' strings live in the global heap, which has no checksum: a size there
  // made H5Aread copy gigabytes (a crash). The first object's size is at 16 + 8 bytes past the
  // signature; its sixth byte makes it about 2^40.
  std::string bytes = testing::read_file_bytes(path_);
  const size_t heap = bytes.find("GCOL");
  ASSERT_NE(heap, std::string::npos);
  bytes[heap + 16 + 8 + 5] = static_cast<char>(bytes[heap + 16 + 8 + 5] ^ 0x01);
  testing::write_file_bytes(path_, bytes);
  expect_refused("the global heap at byte " + std::to_string(heap));
}

TEST_F(DamagedFile, AGlobalHeapEntryOfSizeZeroIsRefusedNotLoopedOn) {
  // A free-space entry of size 0 left HDF5's parser walking in place forever.
  std::string bytes = testing::read_file_bytes(path_);
  const size_t heap = bytes.find("GCOL");
  ASSERT_NE(heap, std::string::npos);
  bytes[heap + 16] = 0;  // the first object's index (2 bytes): 0 = free space ...
  bytes[heap + 17] = 0;
  for (size_t i = 0; i < 8; ++i) bytes[heap + 16 + 8 + i] = 0;  // ... of 0 bytes
  testing::write_file_bytes(path_, bytes);
  expect_refused("the global heap at byte " + std::to_string(heap) +
                 " (which holds the root attributes' text) has a free-space entry of 0 bytes");
}

TEST_F(DamagedFile, Hdf5PrintsNothingFromAnyThread) {
  // The error-printing switch is per thread in a thread-safe HDF5: a read from a thread other
  // than the first one's must be as quiet.
  read_hdf5_experiment(path_);  // this thread first
  std::string bytes = testing::read_file_bytes(path_);
  bytes.resize(bytes.size() / 2);
  testing::write_file_bytes(path_, bytes);
  std::string message;
  ::testing::internal::CaptureStderr();
  std::thread other([&] {
    try {
      read_hdf5_experiment(path_);
    } catch (const std::exception& e) {
      message = e.what();
    }
  });
  other.join();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(contains(message, "truncated file")) << message;
  EXPECT_EQ(err, "");
}

}  // namespace
}  // namespace mpitune
