// A result file (also a resumed one) is readable by another process while the store still
// writes it (SWMR), and the file opens in h5dump. HDF5 does not let one process open a file it
// is writing a second time, so the reader is this test binary itself, started in "reader mode"
// by an environment variable: it reads the file with read_hdf5_experiment and prints what it
// found.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "mpitune/store/hdf5_store.hpp"
#include "store_fixtures.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace mpitune {
namespace {

constexpr const char* kReaderVar = "MPITUNE_STORE_TEST_READ";

// "trials=2 metrics=3 decisions=0 completed=1 summary=running finals=0/0" (the /final rows and
// /final_documents rows), the facts the tests compare.
std::string describe_file(const ExperimentData& d) {
  int completed = 0;
  for (const auto& t : d.trials) completed += t.status == TrialStatus::Completed;
  std::ostringstream out;
  out << "trials=" << d.trials.size() << " metrics=" << d.metrics.size()
      << " decisions=" << d.decisions.size() << " completed=" << completed
      << " summary=" << d.summary.status << " finals=" << d.finals.size() << "/" << d.final_documents.size();
  return out.str();
}

// Reader mode runs before gtest's main and never returns to it.
const bool kReaderMode = [] {
  const char* path = std::getenv(kReaderVar);
  if (!path) return false;
  try {
    std::printf("%s\n", describe_file(read_hdf5_experiment(path)).c_str());
    std::fflush(stdout);
    std::_Exit(0);
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    std::fflush(stdout);
    std::_Exit(3);
  }
}();

struct ChildResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs argv with `extra_env` added to this process's environment; captures its output.
ChildResult run_child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);

  std::vector<std::string> env_text(extra_env);
  for (char** e = environ; *e; ++e) env_text.emplace_back(*e);
  std::vector<char*> envp, args;
  for (auto& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy(argv);
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  ChildResult result;
  if (rc != 0) {
    close(fds[0]);
    result.output = "posix_spawn failed: " + std::to_string(rc);
    return result;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!result.output.empty() && result.output.back() == '\n') result.output.pop_back();
  return result;
}

// What another process sees in the file right now.
std::string read_in_child(const std::string& path) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const ChildResult r = run_child({self}, {std::string(kReaderVar) + "=" + path});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

MetricRecord metric(TrialId trial, int64_t step) {
  MetricRecord m;
  m.trial = trial;
  m.step = step;
  m.time = 1700000000.0 + static_cast<double>(step);
  m.train_loss = 1.0 / static_cast<double>(step);
  return m;
}

TrialRecord trial(TrialId id, TrialStatus status) {
  TrialRecord t;
  t.id = id;
  t.status = status;
  t.hparams = testing::sample_hparams(1e-3, 3, 8, "adamw", 0.5);
  return t;
}

TEST(Hdf5Swmr, AnotherProcessReadsWhatWasFlushedWhileTheWriterGoesOn) {
  testing::TempDir dir;
  const std::string path = dir.file("live.h5");
  Hdf5StoreOptions never;  // only explicit flushes in this test
  never.flush_interval_s = 1e9;
  auto store = create_hdf5_store(path, false, never);
  store->begin(testing::sample_info(), {});
  EXPECT_EQ(read_in_child(path), "trials=0 metrics=0 decisions=0 completed=0 summary=running finals=0/0");

  store->upsert_trial(trial(0, TrialStatus::Running));
  store->upsert_trial(trial(1, TrialStatus::Running));
  for (int64_t s = 1; s <= 3; ++s) store->append_metric(metric(0, s));
  store->flush();
  EXPECT_EQ(read_in_child(path), "trials=2 metrics=3 decisions=0 completed=0 summary=running finals=0/0");

  store->upsert_trial(trial(0, TrialStatus::Completed));
  store->append_metric(metric(1, 1));
  SummaryRecord s;
  s.status = "finished";
  store->set_summary(s);
  store->flush();
  EXPECT_EQ(read_in_child(path), "trials=2 metrics=4 decisions=0 completed=1 summary=finished finals=0/0");
  store->close();
  EXPECT_EQ(describe_file(read_hdf5_experiment(path)), "trials=2 metrics=4 decisions=0 completed=1 summary=finished finals=0/0");
}

TEST(Hdf5Swmr, RowsBecomeVisibleWithoutExplicitFlushWhenTheIntervalHasPassed) {
  testing::TempDir dir;
  const std::string path = dir.file("auto.h5");
  Hdf5StoreOptions always;
  always.flush_interval_s = 0;  // every row write counts as "interval passed"
  auto store = create_hdf5_store(path, false, always);
  store->begin(testing::sample_info(), {});
  store->append_metric(metric(7, 1));
  store->append_metric(metric(7, 2));
  EXPECT_EQ(read_in_child(path), "trials=0 metrics=2 decisions=0 completed=0 summary=running finals=0/0");
}

TEST(Hdf5Swmr, DecisionsAreVisibleAtOnceWithoutWaitingForTheInterval) {
  testing::TempDir dir;
  const std::string path = dir.file("decisions.h5");
  Hdf5StoreOptions never;
  never.flush_interval_s = 1e9;
  auto store = create_hdf5_store(path, false, never);
  store->begin(testing::sample_info(), {});
  store->append_decision({1700000001.0, 0, 3, 0, 1, 3.0, "stop", "below the cutoff"});
  EXPECT_EQ(read_in_child(path), "trials=0 metrics=0 decisions=1 completed=0 summary=running finals=0/0");
  store->upsert_trial(trial(0, TrialStatus::Completed));
  EXPECT_EQ(read_in_child(path), "trials=1 metrics=0 decisions=1 completed=1 summary=running finals=0/0");
}

TEST(Hdf5Swmr, AReportsProgressWaitsForTheIntervalButANewStatusIsVisibleAtOnce) {
  // A trial's row is rewritten at every report (step, metrics): that is progress, written with
  // the metric rows on the timer; a status change is a decision and flushes everything.
  testing::TempDir dir;
  const std::string path = dir.file("progress.h5");
  Hdf5StoreOptions never;
  never.flush_interval_s = 1e9;
  auto store = create_hdf5_store(path, false, never);
  store->begin(testing::sample_info(), {});
  store->upsert_trial(trial(0, TrialStatus::Running));  // a new trial: at once
  EXPECT_EQ(read_in_child(path), "trials=1 metrics=0 decisions=0 completed=0 summary=running finals=0/0");
  TrialRecord progress = trial(0, TrialStatus::Running);
  for (int64_t s = 1; s <= 3; ++s) {
    store->append_metric(metric(0, s));
    progress.last_step = s;
    store->upsert_trial(progress);
  }
  EXPECT_EQ(read_in_child(path), "trials=1 metrics=0 decisions=0 completed=0 summary=running finals=0/0");
  store->upsert_trial(trial(0, TrialStatus::Completed));
  EXPECT_EQ(read_in_child(path), "trials=1 metrics=3 decisions=0 completed=1 summary=running finals=0/0");
  store->close();
}

TEST(Hdf5Swmr, ManyRowsBetweenTwoFlushesArriveWholeAndInOrder) {
  // More than the megabyte of rows a table keeps in memory before it writes them.
  testing::TempDir dir;
  const std::string path = dir.file("burst.h5");
  Hdf5StoreOptions never;
  never.flush_interval_s = 1e9;
  auto store = create_hdf5_store(path, false, never);
  store->begin(testing::sample_info(), {});
  const int64_t n = 30000;
  for (int64_t s = 1; s <= n; ++s) store->append_metric(metric(0, s));
  store->close();
  const ExperimentData data = read_hdf5_experiment(path);
  ASSERT_EQ(data.metrics.size(), static_cast<size_t>(n));
  for (int64_t s = 1; s <= n; ++s) {
    ASSERT_EQ(data.metrics[static_cast<size_t>(s - 1)].step, s);
    ASSERT_DOUBLE_EQ(data.metrics[static_cast<size_t>(s - 1)].train_loss, 1.0 / static_cast<double>(s));
  }
}

TEST(Hdf5Swmr, FinalRowsAreVisibleAtOnceWithoutWaitingForTheInterval) {
  testing::TempDir dir;
  const std::string path = dir.file("final.h5");
  Hdf5StoreOptions never;
  never.flush_interval_s = 1e9;
  auto store = create_hdf5_store(path, false, never);
  store->begin(testing::sample_info(), {});
  // Both tables exist from begin() on (SWMR creates nothing later), empty.
  EXPECT_EQ(read_in_child(path), "trials=0 metrics=0 decisions=0 completed=0 summary=running finals=0/0");
  FinalRecord f;
  f.label = "best";
  f.test_loss = 2.5;
  store->append_final(f, {{"best", 0, 7.0, 3}, {"best", 1, 4.0, 2}, {"best", 2, 1.5, 1}});
  EXPECT_EQ(read_in_child(path), "trials=0 metrics=0 decisions=0 completed=0 summary=running finals=1/3");
  f.label = "base";
  store->append_final(f, {{"base", 0, 9.0, 3}});
  EXPECT_EQ(read_in_child(path), "trials=0 metrics=0 decisions=0 completed=0 summary=running finals=2/4");
}

TEST(Hdf5Swmr, AFileWhoseWriterNeverClosedItStaysReadable) {
  // The writer process is killed (std::_Exit skips every destructor) after a flush.
  testing::TempDir dir;
  const std::string path = dir.file("crashed.h5");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      auto store = create_hdf5_store(path, false);
      store->begin(testing::sample_info(), {});
      store->upsert_trial(trial(3, TrialStatus::Running));
      store->append_metric(metric(3, 1));
      store->flush();
      std::_Exit(0);
    } catch (...) {
      std::_Exit(5);
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(describe_file(read_hdf5_experiment(path)), "trials=1 metrics=1 decisions=0 completed=0 summary=running finals=0/0");
}

TEST(Hdf5Swmr, AResumedFileIsReadByAnotherProcessWhileItGrows) {
  testing::TempDir dir;
  const std::string path = dir.file("resumed.h5");
  {
    auto store = create_hdf5_store(path, false);
    store->begin(testing::sample_info(), {});
    store->upsert_trial(trial(0, TrialStatus::Paused));
    store->close();
  }
  auto store = open_hdf5_store_for_resume(path);
  EXPECT_EQ(read_in_child(path), "trials=1 metrics=0 decisions=0 completed=0 summary=running finals=0/0");
  store->upsert_trial(trial(0, TrialStatus::Completed));  // flushed at once
  store->append_metric(metric(0, 1));
  store->upsert_trial(trial(1, TrialStatus::Running));
  EXPECT_EQ(read_in_child(path), "trials=2 metrics=1 decisions=0 completed=1 summary=running finals=0/0");
  store->close();
}

TEST(Hdf5Swmr, H5dumpOpensAFinishedFile) {
  const char* h5dump = "/usr/bin/h5dump";
  ASSERT_EQ(access(h5dump, X_OK), 0) << "install the Debian package hdf5-tools (mpi_scripts/install_deps.sh)";
  testing::TempDir dir;
  const std::string path = dir.file("dump.h5");
  auto store = create_hdf5_store(path, false);
  store->begin(testing::sample_info(), {{0, "1,2", "node01,node01", "cpu"}});
  store->upsert_trial(trial(0, TrialStatus::Completed));
  store->close();
  const ChildResult r = run_child({h5dump, "-d", "/trials", path}, {});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"completed\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"batch_size\""), std::string::npos) << r.output;
}

// What h5py and pandas see: integer hyperparameters in int64 columns, the others in float64
// or strings (the store's own reader takes any of them, so only another reader can tell).
TEST(Hdf5Swmr, H5dumpShowsIntegerHyperparametersAsInt64Columns) {
  const char* h5dump = "/usr/bin/h5dump";
  ASSERT_EQ(access(h5dump, X_OK), 0) << "install the Debian package hdf5-tools (mpi_scripts/install_deps.sh)";
  testing::TempDir dir;
  const std::string path = dir.file("types.h5");
  auto store = create_hdf5_store(path, false);
  store->begin(testing::sample_info(), {});
  store->upsert_trial(trial(0, TrialStatus::Completed));
  store->close();
  const ChildResult r = run_child({h5dump, "-H", "-d", "/trials", path}, {});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto type_of = [&](const std::string& column) {
    const size_t at = r.output.find("\"" + column + "\";");
    if (at == std::string::npos) return std::string("absent");
    const size_t line = r.output.rfind('\n', at) + 1;
    return r.output.substr(line, at - line);
  };
  EXPECT_NE(type_of("n_layer").find("H5T_STD_I64LE"), std::string::npos) << r.output;     // int(2, 6)
  EXPECT_NE(type_of("batch_size").find("H5T_STD_I64LE"), std::string::npos) << r.output;  // choice(8, 16, 32)
  EXPECT_NE(type_of("lr").find("H5T_IEEE_F64LE"), std::string::npos) << r.output;
  EXPECT_NE(type_of("warmup").find("H5T_IEEE_F64LE"), std::string::npos) << r.output;     // grid(0.5, 1.0)
  EXPECT_NE(type_of("metric_step").find("H5T_STD_I64LE"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mpitune
