// The reader on a few hundred damaged copies of a real result file (single-byte flips and
// truncations at seeded random places), each read in a forked child: no hang, no crash, no
// HDF5 noise on stderr, and every failure one ConfigError or InfraError line. The bigger run
// is bench/result_fuzz.cpp. Also: the harness itself tells a crash, a hang, a bad error and
// stderr noise from a clean end, so the fuzz's zeros mean something.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "corruption_fuzz.hpp"
#include "mpitune/core/error.hpp"
#include "sample_experiment.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::Damage;
using testing::ReadOutcome;
using testing::run_in_child;

TEST(CorruptionFuzz, DamagedResultFilesNeverHangOrCrashTheReader) {
  testing::TempDir dir;
  const std::string original = dir.file("original.h5");
  testing::write_sample_result_file(original);
  testing::FuzzOptions options;
  options.seed = 20261201;
  options.copies = 300;
  options.timeout_s = 5;
  options.work_dir = dir.path();
  const testing::FuzzTally t = testing::fuzz_reader(original, options);

  std::string problems;
  for (const auto& p : t.problems) problems += "\n  " + p;
  EXPECT_EQ(t.files, options.copies) << "stopped early:" << problems;
  EXPECT_EQ(t.hangs, 0u) << problems;
  EXPECT_EQ(t.crashes, 0u) << problems;
  EXPECT_EQ(t.bad_errors, 0u) << problems;
  EXPECT_EQ(t.noisy, 0u) << problems;
  // The damage must reach both outcomes: files that still read and files that are refused.
  EXPECT_GT(t.reads, options.copies / 10);
  EXPECT_GT(t.config_errors, options.copies / 10);
  EXPECT_GT(t.infra_errors, options.copies / 10);
  std::printf("[ fuzz     ] %zu files: %zu read, %zu ConfigError, %zu InfraError; slowest %.3f s (%s)\n", t.files,
              t.reads, t.config_errors, t.infra_errors, t.slowest_s, t.slowest.c_str());
}

TEST(CorruptionFuzz, DamagesAreSeededAndStayInsideTheFile) {
  std::string bytes(5000, '\0');
  for (size_t i = 0; i < bytes.size(); i += 7) bytes[i] = 'x';
  const auto a = testing::draw_damages(bytes, 42, 400, 0.25);
  const auto b = testing::draw_damages(bytes, 42, 400, 0.25);
  const auto c = testing::draw_damages(bytes, 43, 400, 0.25);
  ASSERT_EQ(a.size(), 400u);
  size_t truncations = 0, flips_on_nonzero = 0, differ = 0;
  std::set<uint64_t> offsets;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].describe(), b[i].describe());
    differ += a[i].describe() != c[i].describe();
    EXPECT_LT(a[i].offset, bytes.size());
    offsets.insert(a[i].offset);
    if (a[i].kind == Damage::Kind::Truncate) {
      ++truncations;
      EXPECT_EQ(testing::apply_damage(bytes, a[i]).size(), a[i].offset);
    } else {
      EXPECT_NE(a[i].mask, 0);
      flips_on_nonzero += bytes[a[i].offset] != 0;
      const std::string damaged = testing::apply_damage(bytes, a[i]);
      ASSERT_EQ(damaged.size(), bytes.size());
      size_t changed = 0;
      for (size_t j = 0; j < bytes.size(); ++j) changed += damaged[j] != bytes[j];
      EXPECT_EQ(changed, 1u);
    }
  }
  EXPECT_GT(differ, 390u);
  EXPECT_GT(offsets.size(), 300u);
  EXPECT_GT(truncations, 60u);
  EXPECT_LT(truncations, 140u);
  // Half the flips are aimed at non-zero bytes, which are 1 in 7 here.
  EXPECT_GT(flips_on_nonzero, (a.size() - truncations) * 4 / 10);
}

TEST(CorruptionFuzz, TheHarnessTellsEveryWayAChildCanEnd) {
  const auto returned = run_in_child([] {}, 5);
  EXPECT_STREQ(testing::outcome_name(returned.outcome), "read");

  const auto config = run_in_child([] { throw ConfigError("f.h5", "is damaged"); }, 5);
  EXPECT_STREQ(testing::outcome_name(config.outcome), "ConfigError");
  EXPECT_EQ(config.message, "f.h5: is damaged");

  const auto infra = run_in_child([] { throw InfraError("H5Dread failed"); }, 5);
  EXPECT_STREQ(testing::outcome_name(infra.outcome), "InfraError");

  const auto two_lines = run_in_child([] { throw InfraError("first\nsecond"); }, 5);
  EXPECT_STREQ(testing::outcome_name(two_lines.outcome), "bad error");
  const auto empty = run_in_child([] { throw InfraError(""); }, 5);
  EXPECT_STREQ(testing::outcome_name(empty.outcome), "bad error");
  const auto other = run_in_child([] { throw std::logic_error("not ours"); }, 5);
  EXPECT_STREQ(testing::outcome_name(other.outcome), "bad error");
  EXPECT_EQ(other.message, "std::exception: not ours");

  const auto crash = run_in_child([] { raise(SIGSEGV); }, 5);
  EXPECT_STREQ(testing::outcome_name(crash.outcome), "crash");
  EXPECT_NE(crash.message.find("Segmentation fault"), std::string::npos) << crash.message;
  const auto aborted = run_in_child([] { std::abort(); }, 5);
  EXPECT_STREQ(testing::outcome_name(aborted.outcome), "crash");

  // A child blocked forever (pause: it waits for a signal that never comes) is killed.
  const auto hang = run_in_child([] {
    for (;;) pause();
  }, 0.2);
  EXPECT_STREQ(testing::outcome_name(hang.outcome), "hang");
  EXPECT_GE(hang.seconds, 0.2);
  EXPECT_LT(hang.seconds, 5.0);

  const auto noisy = run_in_child([] { std::fputs("HDF5-DIAG: Error detected\n", stderr); }, 5);
  EXPECT_EQ(noisy.child_stderr, "HDF5-DIAG: Error detected\n");
  EXPECT_FALSE(testing::only_reader_warnings(noisy.child_stderr));
  EXPECT_TRUE(testing::only_reader_warnings("mpitune: warning: f.h5: /trials: skipped the last row\n"));
  EXPECT_TRUE(testing::only_reader_warnings(""));
}

}  // namespace
}  // namespace mpitune
