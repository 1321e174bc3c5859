// Schema 4 of the result file: /events (binary data of any length, spread over rows of 128
// bytes and joined again by the reader, which checks the parts and the seq) and /segments
// (one row per job, rewritten in place).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/error.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "store_fixtures.hpp"
#include "support/store/hdf5_edit.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::expect_same_event;
using testing::expect_same_segment;
using testing::sample_event;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ExperimentData read_capturing_stderr(const std::string& path, std::string* err) {
  ::testing::internal::CaptureStderr();
  try {
    ExperimentData d = read_hdf5_experiment(path);
    *err = ::testing::internal::GetCapturedStderr();
    return d;
  } catch (...) {
    *err = ::testing::internal::GetCapturedStderr();
    throw;
  }
}

// Events of these sizes, numbered from 0, written to a new file that is then closed.
std::vector<EventRecord> write_events(const std::string& path, const std::vector<size_t>& sizes) {
  std::vector<EventRecord> events;
  auto store = create_hdf5_store(path, true);
  store->begin(testing::sample_info(), {});
  for (size_t i = 0; i < sizes.size(); ++i) {
    events.push_back(sample_event(static_cast<int64_t>(i), i % 2 ? "message" : "budget", sizes[i]));
    store->append_event(events.back());
  }
  store->close();
  return events;
}

TEST(Schema4, EventsOfEveryLengthRoundTripWithTheirBinaryData) {
  TempDir dir;
  const std::string path = dir.file("events.h5");
  // Around the row width (128 bytes), empty, and a FinalEvalDone-sized one (160 KB).
  const std::vector<size_t> sizes = {0, 1, 100, 127, 128, 129, 256, 257, 160000, 3};
  const std::vector<EventRecord> events = write_events(path, sizes);
  ASSERT_EQ(events[2].data[0], 2);  // the data holds NULs and every byte value
  ASSERT_EQ(events[2].data[110], 0);

  const ExperimentData r = read_hdf5_experiment(path);
  EXPECT_EQ(r.info.schema_version, 4);
  ASSERT_EQ(r.events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    expect_same_event(r.events[i], events[i]);
  }
  EXPECT_TRUE(r.segments.empty());
}

TEST(Schema4, AShortEventTakesOneRowAndALongOneAsManyAsItNeeds) {
  TempDir dir;
  const std::string path = dir.file("rows.h5");
  write_events(path, {100, 128, 129, 1000});
  // 1 + 1 + 2 + 8 rows: one set to zero past the end shows where the table ends.
  hdf5_edit::set_table_rows(path, "/events", 13);
  std::string err;
  const ExperimentData r = read_capturing_stderr(path, &err);
  EXPECT_EQ(r.events.size(), 4u);
  EXPECT_TRUE(contains(err, "/events: skipped the last row, all zero")) << err;
}

TEST(Schema4, SegmentsAreAppendedWhenNewAndRewrittenInPlace) {
  TempDir dir;
  const std::string path = dir.file("segments.h5");
  std::vector<SegmentRecord> segments = testing::sample_segments();
  SegmentRecord running = segments[1];
  running.status = "running";
  running.end_time = kNaN;
  running.elapsed_s = 1.5;
  running.hosts = std::string(5000, 'h');  // wider than the column: cut
  {
    auto store = create_hdf5_store(path, false);
    store->begin(testing::sample_info(), {});
    store->set_segment(segments[0]);
    store->set_segment(running);
    // Visible at once: a segment row is flushed when written.
    EXPECT_EQ(read_hdf5_experiment(path).segments.size(), 2u);
    store->set_segment(segments[1]);  // the job ends: its row is rewritten
    store->close();
  }
  const ExperimentData r = read_hdf5_experiment(path);
  ASSERT_EQ(r.segments.size(), 2u);
  expect_same_segment(r.segments[0], segments[0]);
  expect_same_segment(r.segments[1], segments[1]);

  // Long text is cut to the column at a character boundary.
  auto store = create_hdf5_store(path, true);
  store->begin(testing::sample_info(), {});
  store->set_segment(running);
  store->close();
  const ExperimentData cut = read_hdf5_experiment(path);
  ASSERT_EQ(cut.segments.size(), 1u);
  EXPECT_EQ(cut.segments[0].hosts, std::string(kH5SegmentTextBytes - 1, 'h'));
  EXPECT_TRUE(std::isnan(cut.segments[0].end_time));
}

TEST(Schema4, EventsMustComeNumberedWithoutGapsAndWithAKindThatFits) {
  TempDir dir;
  auto store = create_hdf5_store(dir.file("seq.h5"), false);
  store->begin(testing::sample_info(), {});
  EXPECT_THROW(store->append_event(sample_event(1, "message", 10)), InfraError);  // the first is 0
  store->append_event(sample_event(0, "message", 10));
  EXPECT_THROW(store->append_event(sample_event(0, "message", 10)), InfraError);  // a repeat
  EXPECT_THROW(store->append_event(sample_event(2, "message", 10)), InfraError);  // a gap
  EXPECT_THROW(store->append_event(sample_event(1, "a kind much too long", 10)), InfraError);
  store->append_event(sample_event(1, "preempt", 10));  // the refused ones took no number
  store->close();
  const ExperimentData r = read_hdf5_experiment(dir.file("seq.h5"));
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1].kind, "preempt");
}

// ---- partial and damaged events ----

class DamagedEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("events.h5");
    events_ = write_events(path_, {50, 300, 60, 1000});  // rows 0, 1-3, 4, 5-12
  }
  void expect_refused(const std::string& part) {
    try {
      read_hdf5_experiment(path_);
      ADD_FAILURE() << "read a damaged file";
    } catch (const ConfigError& e) {
      EXPECT_TRUE(contains(e.what(), path_ + ": ")) << e.what();
      EXPECT_TRUE(contains(e.what(), part)) << e.what();
    }
  }
  TempDir dir_;
  std::string path_;
  std::vector<EventRecord> events_;
};

TEST_F(DamagedEvents, ALastEventWhoseRowsStopEarlyIsSkippedWithAWarning) {
  hdf5_edit::set_table_rows(path_, "/events", 9);  // event 3 has 4 of its 8 rows
  std::string err;
  const ExperimentData r = read_capturing_stderr(path_, &err);
  ASSERT_EQ(r.events.size(), 3u);
  for (size_t i = 0; i < 3; ++i) expect_same_event(r.events[i], events_[i]);
  EXPECT_EQ(err, "mpitune: warning: " + path_ +
                     ": /events: skipped the last 4 rows, the first 4 of the 8 parts of event 3: the writer stopped "
                     "before the rest of it reached the disk (a full disk or a crash)\n");
}

TEST_F(DamagedEvents, ALastEventFollowedByUnwrittenRowsIsSkippedInTheSameWarning) {
  hdf5_edit::set_table_rows(path_, "/events", 9);
  hdf5_edit::set_table_rows(path_, "/events", 11);  // two zero rows where parts 4 and 5 were due
  std::string err;
  const ExperimentData r = read_capturing_stderr(path_, &err);
  EXPECT_EQ(r.events.size(), 3u);
  EXPECT_TRUE(contains(err, "skipped the last 6 rows, the first 4 of the 8 parts of event 3 and 2 rows all zero"))
      << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

TEST_F(DamagedEvents, ADamagedLastRowSkipsItsEvent) {
  hdf5_edit::write_int_cell(path_, "/events", 12, "size", 500);  // more than the row holds
  std::string err;
  const ExperimentData r = read_capturing_stderr(path_, &err);
  EXPECT_EQ(r.events.size(), 3u);
  EXPECT_TRUE(contains(err, "skipped the last 8 rows, a damaged last event (event 3: part 7 of 8 says it holds 500"))
      << err;
}

TEST_F(DamagedEvents, AMissingPartInTheMiddleRefusesTheFile) {
  hdf5_edit::write_int_cell(path_, "/events", 2, "part", 2);  // event 1: parts 0, 2, 2
  expect_refused("table /events: row 2: part 2 of 3 of event 1 where part 1 of 3 of event 1 was due");
}

TEST_F(DamagedEvents, AGapInTheSeqRefusesTheFile) {
  hdf5_edit::write_int_cell(path_, "/events", 4, "seq", 3);
  expect_refused("table /events: row 4: event 3 where event 2 was due");
}

TEST_F(DamagedEvents, APartCountBeyondTheTableInTheMiddleRefusesTheFile) {
  // Event 0 claims 1000 parts: event 1's first row is not its part 1.
  hdf5_edit::write_int_cell(path_, "/events", 0, "parts", 1000);
  expect_refused("table /events: row 0: event 0: part 0 of 1000 says it holds 50 bytes");
}

TEST_F(DamagedEvents, ASizeOutOfRangeInTheMiddleRefusesTheFile) {
  hdf5_edit::write_int_cell(path_, "/events", 1, "size", 100);  // not the last part, yet not full
  expect_refused("table /events: row 1: event 1: part 0 of 3 says it holds 100 bytes of a 128-byte column");
}

TEST_F(DamagedEvents, ADataColumnOfAnotherTypeRefusesTheFile) {
  hdf5_edit::replace_table(path_, "/events",
                           {{"seq", hdf5_edit::ValueKind::Int64},
                            {"time", hdf5_edit::ValueKind::Float64},
                            {"vtime", hdf5_edit::ValueKind::Int64},
                            {"group", hdf5_edit::ValueKind::Int32},
                            {"kind", hdf5_edit::ValueKind::FixedString},
                            {"part", hdf5_edit::ValueKind::Int32},
                            {"parts", hdf5_edit::ValueKind::Int32},
                            {"size", hdf5_edit::ValueKind::Int32},
                            {"data", hdf5_edit::ValueKind::FixedString}},
                           2);
  expect_refused("table /events has no byte column 'data'");
}

}  // namespace
}  // namespace mpitune
