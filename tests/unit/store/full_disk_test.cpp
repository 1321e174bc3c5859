// A writer whose disk fills leaves no partial row: the rows it could not write are not in the
// file, the others are complete. The full disk is a file-size limit (RLIMIT_FSIZE, with
// SIGXFSZ ignored, so writes past it fail with EFBIG as they would with ENOSPC) set in a forked
// child at the file's current size: rows that fit in chunks already on disk still go in, the
// first chunk HDF5 must add at the end of the file does not. One difference remains: at every
// flush and at close HDF5 sets the file's size to its end of allocation with ftruncate, which a
// full disk allows (it allocates no blocks: the new end reads as zeros) and the size limit does
// not; so the test makes that extension itself before it reads (extend_to_allocated_size).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <functional>

#include "mpitune/core/error.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "store_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

TrialRecord running(TrialId id) {
  TrialRecord t;
  t.id = id;
  t.group = 0;
  t.status = TrialStatus::Running;
  t.hparams = testing::sample_hparams(1e-3, 3, 8, "adamw", 0.5);
  t.start_time = 1700000000.0 + static_cast<double>(id);
  t.reason = "a reason long enough to fill chunks quickly: " + std::string(300, 'r');
  return t;
}

MetricRecord metric(TrialId id) {
  MetricRecord m;
  m.trial = id;
  m.step = 1;
  m.time = 1700000000.5 + static_cast<double>(id);
  m.train_loss = 2.0;
  return m;
}

struct FullDiskRun {
  int64_t trials_acknowledged = -1;  // upsert_trial calls that returned
  bool store_failed = false;         // a call threw InfraError when the disk was full
};

// The child: a store on a roomy disk, `before` writes the first rows (every table it uses
// then has its first chunk on disk), then the disk "fills" and `until_full` writes on until
// the store reports the failure (an InfraError), then close() (which may fail too).
FullDiskRun write_until_the_disk_is_full(const std::string& path,
                                         const std::function<void(ResultStore&)>& before,
                                         const std::function<void(ResultStore&, FullDiskRun&)>& until_full) {
  int report[2];
  if (pipe(report) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(report[0]);
    FullDiskRun run;
    try {
      auto store = create_hdf5_store(path, false);
      store->begin(testing::sample_info(), {{0, "1", "node01", "cpu"}});
      before(*store);
      store->flush();
      struct stat st {};
      if (stat(path.c_str(), &st) != 0) std::_Exit(10);
      signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{static_cast<rlim_t>(st.st_size), static_cast<rlim_t>(st.st_size)};
      if (setrlimit(RLIMIT_FSIZE, &limit) != 0) std::_Exit(11);
      try {
        until_full(*store, run);
      } catch (const InfraError&) {
        run.store_failed = true;
      }
      try {
        store->close();
      } catch (const InfraError&) {
        // The disk is still full; what matters is what the file holds.
      }
    } catch (...) {
      std::_Exit(12);
    }
    // A pipe is not a file: the size limit does not apply to it.
    if (write(report[1], &run, sizeof run) != static_cast<ssize_t>(sizeof run)) std::_Exit(13);
    std::_Exit(0);
  }
  close(report[1]);
  FullDiskRun run;
  const ssize_t n = read(report[0], &run, sizeof run);
  close(report[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_EQ(n, static_cast<ssize_t>(sizeof run));
  return run;
}

// 3 trials on a roomy disk, then trials and metric rows until the disk is full.
FullDiskRun write_trials_until_the_disk_is_full(const std::string& path) {
  return write_until_the_disk_is_full(
      path,
      [](ResultStore& store) {
        for (TrialId id = 0; id < 3; ++id) store.upsert_trial(running(id));
        store.append_metric(metric(2));  // every table has its first chunk on disk
      },
      [](ResultStore& store, FullDiskRun& run) {
        run.trials_acknowledged = 3;
        for (TrialId id = 3; id < 100000; ++id) {
          store.upsert_trial(running(id));
          ++run.trials_acknowledged;
          store.append_metric(metric(id));
        }
      });
}

// Event `id` of 2000 bytes: it fills the /events chunk on disk long before trial rows fill theirs.
EventRecord big_event(TrialId id) {
  EventRecord e;
  e.seq = id;
  e.time = 1700000000.0 + static_cast<double>(id);
  e.kind = "message";
  e.data.assign(2000, static_cast<uint8_t>(id));
  return e;
}

// The superblock (version 2 or 3, 8-byte addresses): signature 8, version, sizes of offsets and
// lengths, flags, then base address, extension address and end-of-file address (at byte 28).
void extend_to_allocated_size(const std::string& path) {
  const std::string head = testing::read_file(path).substr(0, 48);
  ASSERT_EQ(head.compare(0, 8, "\x89HDF\r\n\x1a\n"), 0);
  ASSERT_GE(static_cast<int>(head[8]), 2);
  ASSERT_EQ(head[9], 8);
  uint64_t end_of_allocation = 0;
  for (int i = 7; i >= 0; --i)
    end_of_allocation = (end_of_allocation << 8) | static_cast<unsigned char>(head[28 + i]);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  if (static_cast<uint64_t>(st.st_size) < end_of_allocation) {
    ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(end_of_allocation)), 0);
  }
}

TEST(FullDisk, TheWriterLeavesNoPartialRowAndLosesNoAcknowledgedTrial) {
  testing::TempDir dir;
  const std::string path = dir.file("full.h5");
  const FullDiskRun run = write_trials_until_the_disk_is_full(path);
  ASSERT_TRUE(run.store_failed) << "the size limit never made the store fail";
  ASSERT_GT(run.trials_acknowledged, 3) << "rows that fit in chunks already on disk should have gone in";

  extend_to_allocated_size(path);
  ::testing::internal::CaptureStderr();
  const ExperimentData d = read_hdf5_experiment(path);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(warnings, "") << "the reader had to skip rows the writer left unfinished";
  // Every acknowledged trial is there, complete; the one whose call failed may be there too
  // (its row reached the disk, another table's did not), nothing beyond.
  const auto acknowledged = static_cast<size_t>(run.trials_acknowledged);
  ASSERT_GE(d.trials.size(), acknowledged);
  ASSERT_LE(d.trials.size(), acknowledged + 1);
  for (size_t i = 0; i < d.trials.size(); ++i)
    testing::expect_same_trial(d.trials[i], running(static_cast<TrialId>(i)));
  // Metric rows are flushed with the next trial row: complete ones only, in order (the last
  // one may be lost with the trial row whose flush failed).
  ASSERT_GE(d.metrics.size(), 1u);
  ASSERT_LE(d.metrics.size(), acknowledged - 2);
  for (size_t i = 0; i < d.metrics.size(); ++i)
    testing::expect_same_metric(d.metrics[i], metric(static_cast<TrialId>(i + 2)));
}

// Each trial row follows the event that caused it. When /events cannot grow, the trial row
// written after the event must not reach the file either, though its table still has room.
TEST(FullDisk, NoRowReachesTheFileWithoutTheEventBeforeIt) {
  testing::TempDir dir;
  const std::string path = dir.file("events.h5");
  const FullDiskRun run = write_until_the_disk_is_full(
      path,
      [](ResultStore& store) {
        store.append_event(big_event(0));
        store.upsert_trial(running(0));
      },
      [](ResultStore& store, FullDiskRun& run) {
        run.trials_acknowledged = 1;
        for (TrialId id = 1; id < 100000; ++id) {
          store.append_event(big_event(id));
          store.upsert_trial(running(id));  // flushes: /events first
          ++run.trials_acknowledged;
        }
      });
  ASSERT_TRUE(run.store_failed) << "the size limit never made the store fail";
  ASSERT_GT(run.trials_acknowledged, 1) << "events that fit in the chunk already on disk should have gone in";

  extend_to_allocated_size(path);
  ::testing::internal::CaptureStderr();
  const ExperimentData d = read_hdf5_experiment(path);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(warnings, "") << "the reader had to skip rows the writer left unfinished";
  const auto acknowledged = static_cast<size_t>(run.trials_acknowledged);
  EXPECT_EQ(d.events.size(), acknowledged);
  EXPECT_EQ(d.trials.size(), acknowledged) << "a trial row without its event, or an acknowledged one lost";
  for (size_t i = 0; i < d.events.size(); ++i) EXPECT_EQ(d.events[i].data, big_event(static_cast<TrialId>(i)).data);
}

}  // namespace
}  // namespace mpitune
