// Resuming a result file (open_hdf5_store_for_resume): a later job appends after every table's
// rows, rewrites /trials rows by trial id, /summary and /segments rows by index, and goes on
// numbering events; also after its writer was killed with SIGKILL in SWMR mode (whose file
// plain readers refuse until it is resumed); rows a writer never finished are cut off first;
// files that are not ours, of another schema or open in another program are refused unchanged.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "corruption_fuzz.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "store_fixtures.hpp"
#include "support/cli_support.hpp"
#include "support/store/hdf5_edit.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::expect_same_event;
using testing::expect_same_metric;
using testing::expect_same_segment;
using testing::expect_same_trial;
using testing::sample_event;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TrialRecord trial(TrialId id, TrialStatus status, int64_t last_step) {
  TrialRecord t;
  t.id = id;
  t.group = static_cast<int>(id % 2);
  t.status = status;
  t.hparams = testing::sample_hparams(1e-3 * static_cast<double>(id + 1), 3, 16, "adamw", 0.5);
  t.start_time = 1700000001.0 + static_cast<double>(id);
  t.last_step = last_step;
  t.reason = status == TrialStatus::Paused ? "preempted" : "";
  return t;
}

MetricRecord metric(TrialId id, int64_t step) {
  MetricRecord m;
  m.trial = id;
  m.step = step;
  m.time = 1700000000.0 + static_cast<double>(step);
  m.train_loss = 4.0 / static_cast<double>(step + 1);
  return m;
}

SegmentRecord segment(int64_t index, const std::string& status, double elapsed_s) {
  SegmentRecord s = testing::sample_segments()[index == 0 ? 0 : 1];
  s.index = index;
  s.status = status;
  s.elapsed_s = elapsed_s;
  if (status == "running") s.end_time = kNaN;
  return s;
}

// What the first job writes: segment 0, events 0..4 (event 2 of 300 bytes), trials 0 and 1
// running, 4 metric rows, one decision.
struct FirstJob {
  std::vector<EventRecord> events;
  std::vector<TrialRecord> trials;
  std::vector<MetricRecord> metrics;
  SegmentRecord segment;
};

FirstJob write_first_job(ResultStore& store) {
  FirstJob job;
  job.segment = segment(0, "running", 2.0);
  store.set_segment(job.segment);
  for (int64_t seq = 0; seq < 5; ++seq) {
    job.events.push_back(sample_event(seq, "message", seq == 2 ? 300 : 80));
    store.append_event(job.events.back());
  }
  for (TrialId id = 0; id < 2; ++id) {
    job.trials.push_back(trial(id, TrialStatus::Running, 0));
    store.upsert_trial(job.trials.back());
    store.append_decision({1700000001.0, id, 0, 0, 0, 9.0, "start", "new trial"});
  }
  for (int64_t step = 1; step <= 2; ++step)
    for (TrialId id = 0; id < 2; ++id) {
      job.metrics.push_back(metric(id, step));
      store.append_metric(job.metrics.back());
    }
  return job;
}

// An h5dump of the file's header: what plain readers make of it (exit code 0: it opens).
testing::Outcome h5dump_header(const std::string& path) { return testing::run_shell("/usr/bin/h5dump -H " + path); }

TEST(Resume, ASecondJobAppendsAfterTheFirstAndRewritesRowsInPlace) {
  TempDir dir;
  const std::string path = dir.file("resumed.h5");
  FirstJob first;
  {
    auto store = create_hdf5_store(path, false);
    store->begin(testing::sample_info(), {{0, "1,2", "node01,node01", "cpu"}});
    first = write_first_job(*store);
    store->set_summary({"interrupted", 1700000003.0, 2.0, 10.0, 2, -1, kNaN, 0, 0, 1.3});
    first.segment.status = "interrupted";
    first.segment.end_time = 1700000003.0;
    store->set_segment(first.segment);
    store->close();
  }

  ExperimentData existing;
  auto store = open_hdf5_store_for_resume(path, {}, &existing);
  // What was read is handed back for the replay, as read_hdf5_experiment gives it.
  ASSERT_EQ(existing.events.size(), 5u);
  expect_same_event(existing.events[2], first.events[2]);
  EXPECT_EQ(existing.trials.size(), 2u);
  EXPECT_EQ(existing.summary.status, "interrupted");
  EXPECT_EQ(existing.path, path);
  EXPECT_THROW(store->begin(testing::sample_info(), {}), InfraError);  // begun already

  const SegmentRecord second = segment(1, "finished", 4.0);
  store->set_segment(second);
  const EventRecord next = sample_event(5, "job", 200);
  EXPECT_THROW(store->append_event(sample_event(0, "job", 1)), InfraError);  // numbering goes on
  store->append_event(next);
  TrialRecord paused = first.trials[1];  // a trial of the first job, updated in place
  paused.status = TrialStatus::Completed;
  paused.last_step = 9;
  store->upsert_trial(paused);
  const TrialRecord fresh = trial(2, TrialStatus::Running, 0);
  store->upsert_trial(fresh);
  const MetricRecord later = metric(2, 1);
  store->append_metric(later);
  store->append_decision({1700000010.0, 1, 9, 0, 1, 9.0, "complete", "budget reached"});
  store->set_summary({"finished", 1700000020.0, 6.0, 30.0, 3, 1, 0.5, 9, 1, 0.5});
  store->close();

  std::string err;
  ::testing::internal::CaptureStderr();
  const ExperimentData r = read_hdf5_experiment(path);
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
  ASSERT_EQ(r.events.size(), 6u);
  for (size_t i = 0; i < 5; ++i) expect_same_event(r.events[i], first.events[i]);
  expect_same_event(r.events[5], next);
  ASSERT_EQ(r.trials.size(), 3u);
  expect_same_trial(r.trials[0], first.trials[0]);
  expect_same_trial(r.trials[1], paused);
  expect_same_trial(r.trials[2], fresh);
  ASSERT_EQ(r.metrics.size(), 5u);
  for (size_t i = 0; i < 4; ++i) expect_same_metric(r.metrics[i], first.metrics[i]);
  expect_same_metric(r.metrics[4], later);
  ASSERT_EQ(r.decisions.size(), 3u);
  EXPECT_EQ(r.decisions[2].action, "complete");
  EXPECT_EQ(r.summary.status, "finished");
  EXPECT_EQ(r.summary.trials, 3);
  ASSERT_EQ(r.segments.size(), 2u);
  expect_same_segment(r.segments[0], first.segment);
  expect_same_segment(r.segments[1], second);
  // The root attributes and the other tables are the first job's.
  EXPECT_EQ(r.info.name, testing::sample_info().name);
  EXPECT_EQ(r.groups.size(), 1u);
  EXPECT_EQ(r.info.space.size(), testing::sample_space().size());
  EXPECT_EQ(h5dump_header(path).code, 0);
}

TEST(Resume, AWriterKilledInSwmrModeLeavesAFileThatResumesAndThenOpensEverywhere) {
  TempDir dir;
  const std::string path = dir.file("killed.h5");
  Hdf5StoreOptions slow;
  slow.flush_interval_s = 1e9;  // only explicit and decision flushes
  const auto killed = testing::run_in_child([&] {
    auto store = create_hdf5_store(path, false, slow);
    store->begin(testing::sample_info(), {});
    write_first_job(*store);
    store->flush();
    // Never flushed: lost with the process.
    store->append_event(sample_event(5, "message", 1000));
    store->append_metric(metric(0, 3));
    raise(SIGKILL);
  }, 20);
  ASSERT_STREQ(testing::outcome_name(killed.outcome), "crash") << killed.message << killed.child_stderr;
  ASSERT_TRUE(contains(killed.message, "Killed")) << killed.message;

  // The documented state after a crash: SWMR readers see the last flush, plain readers refuse.
  std::string why;
  EXPECT_FALSE(hdf5_edit::opens_without_swmr(path, &why));
  EXPECT_TRUE(contains(why, "file is already open for write")) << why;
  EXPECT_NE(h5dump_header(path).code, 0);
  const ExperimentData crashed = read_hdf5_experiment(path);
  ASSERT_EQ(crashed.events.size(), 5u);
  EXPECT_EQ(crashed.metrics.size(), 4u);
  EXPECT_EQ(crashed.summary.status, "running");

  auto store = open_hdf5_store_for_resume(path);
  SegmentRecord died = segment(0, "running", 2.0);
  died.status = "aborted";
  died.reason = "the job died without a word";
  store->set_segment(died);
  store->set_segment(segment(1, "running", 0.5));
  const EventRecord next = sample_event(5, "job", 40);  // seq 5 again: the lost one never was
  store->append_event(next);
  store->append_metric(metric(1, 3));
  store->set_summary({"finished", 1700000020.0, 6.0, 30.0, 2, 0, 0.5, 9, 0, 0.5});
  store->close();

  EXPECT_TRUE(hdf5_edit::opens_without_swmr(path, &why)) << why;
  const testing::Outcome dump = h5dump_header(path);
  EXPECT_EQ(dump.code, 0) << dump.out;
  EXPECT_TRUE(contains(dump.out, "DATASET \"/events\"") || contains(dump.out, "DATASET \"events\"")) << dump.out;
  const ExperimentData r = read_hdf5_experiment(path);
  ASSERT_EQ(r.events.size(), 6u);
  expect_same_event(r.events[5], next);
  ASSERT_EQ(r.metrics.size(), 5u);
  expect_same_metric(r.metrics[4], metric(1, 3));
  ASSERT_EQ(r.segments.size(), 2u);
  EXPECT_EQ(r.segments[0].status, "aborted");
  EXPECT_EQ(r.summary.status, "finished");
}

TEST(Resume, RowsThatWereNeverWrittenAreCutOffBeforeNewOnes) {
  TempDir dir;
  const std::string path = dir.file("unwritten.h5");
  testing::write_sample_result_file(path);
  const ExperimentData before = read_hdf5_experiment(path);
  const size_t event_rows = testing::event_rows(before.events);
  // What a full disk or a crash leaves: tables extended for rows whose data never came, and
  // the last rows of /events cut off: event 8 (one row) and the last 2 of event 7's 8 rows,
  // so events 7 and 8 are gone.
  hdf5_edit::set_table_rows(path, "/events", event_rows - 3);
  hdf5_edit::set_table_rows(path, "/events", event_rows + 2);  // ... and zero rows after it
  hdf5_edit::set_table_rows(path, "/metrics", before.metrics.size() + 2);
  hdf5_edit::set_table_rows(path, "/trials", before.trials.size() + 1);
  hdf5_edit::set_table_rows(path, "/segments", before.segments.size() + 1);
  hdf5_edit::set_table_rows(path, "/decisions", before.decisions.size() + 1);  // gets no new row

  ExperimentData existing;
  ::testing::internal::CaptureStderr();
  auto store = open_hdf5_store_for_resume(path, {}, &existing);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(contains(warnings, "/events: skipped the last")) << warnings;
  EXPECT_TRUE(contains(warnings, "/metrics: skipped the last 2 rows")) << warnings;
  ASSERT_EQ(existing.events.size(), before.events.size() - 2);
  const int64_t next_seq = existing.events.back().seq + 1;
  EXPECT_EQ(next_seq, 7);

  const EventRecord again = sample_event(next_seq, "budget", 500);
  store->append_event(again);
  const MetricRecord m = metric(3, 99);
  store->append_metric(m);
  const TrialRecord t = trial(6, TrialStatus::Running, 0);
  store->upsert_trial(t);
  store->set_segment(segment(2, "running", 1.0));
  store->close();

  ::testing::internal::CaptureStderr();
  const ExperimentData r = read_hdf5_experiment(path);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");  // no zero row or partial event left anywhere
  ASSERT_EQ(r.events.size(), before.events.size() - 1);
  expect_same_event(r.events.back(), again);
  ASSERT_EQ(r.metrics.size(), before.metrics.size() + 1);
  expect_same_metric(r.metrics.back(), m);
  ASSERT_EQ(r.trials.size(), before.trials.size() + 1);
  expect_same_trial(r.trials.back(), t);
  ASSERT_EQ(r.segments.size(), before.segments.size() + 1);
  EXPECT_EQ(r.segments.back().index, 2);
  EXPECT_EQ(r.decisions.size(), before.decisions.size());
}

// ---- refusals ----

void expect_config_error(const std::function<void()>& f, const std::string& path, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
    EXPECT_TRUE(contains(what, part)) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(Resume, MissingNonHdf5AndForeignFilesAreRefused) {
  TempDir dir;
  const std::string missing = dir.file("missing.h5");
  expect_config_error([&] { open_hdf5_store_for_resume(missing); }, missing, "no such file");
  const std::string text = dir.file("text.h5");
  testing::write_file(text, "not hdf5\n");
  expect_config_error([&] { open_hdf5_store_for_resume(text); }, text, "is not an HDF5 file");

  const std::string foreign = dir.file("foreign.h5");
  testing::write_sample_result_file(foreign);
  hdf5_edit::remove_root_attribute(foreign, "schema_version");
  const std::string bytes = testing::read_file_bytes(foreign);
  expect_config_error([&] { open_hdf5_store_for_resume(foreign); }, foreign, "is not an mpitune result file");
  EXPECT_EQ(testing::read_file_bytes(foreign), bytes);  // untouched
}

TEST(Resume, AFileOfAnotherSchemaIsRefusedUnchanged) {
  TempDir dir;
  const std::string path = dir.file("v3.h5");
  testing::write_sample_result_file(path);
  hdf5_edit::replace_root_attribute(path, "schema_version", hdf5_edit::ValueKind::Int32, 0, 3);
  const std::string bytes = testing::read_file_bytes(path);
  expect_config_error([&] { open_hdf5_store_for_resume(path); }, path,
                      "written by schema 3; it cannot be resumed; start a new experiment");
  EXPECT_EQ(testing::read_file_bytes(path), bytes);
}

TEST(Resume, AFileAnotherProgramHoldsOpenIsRefused) {
  TempDir dir;
  const std::string path = dir.file("held.h5");
  testing::write_sample_result_file(path);
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // as h5dump or h5py without swmr=True would, until the parent says
    close(ready[0]);
    close(release[1]);
    int code = 0;
    try {
      hdf5_edit::PlainReader reader(path);
      char c = 'r';
      if (write(ready[1], &c, 1) != 1) code = 3;
      if (read(release[0], &c, 1) < 0) code = 4;  // returns 0 when the parent closes it
    } catch (...) {
      code = 5;
    }
    std::_Exit(code);
  }
  close(ready[1]);
  close(release[0]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  expect_config_error([&] { open_hdf5_store_for_resume(path); }, path, "is open in another program");
  close(release[1]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  close(ready[0]);
  // Once it is closed, the same file resumes.
  auto store = open_hdf5_store_for_resume(path);
  store->close();
}

}  // namespace
}  // namespace mpitune
