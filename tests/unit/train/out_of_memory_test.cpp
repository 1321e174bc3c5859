// An out-of-memory inside a trial is that trial's failure (a TrialError that says so and what to
// change), and the same trainable then runs the next trial: what the worker relies on to fail
// the trial and let its group go on. On CPU the allocator's failure is provoked by lowering this
// process's address-space limit for the one step; on CUDA the same path catches
// c10::OutOfMemoryError (gpt_trainable.cpp) and empties the caching allocator on release.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "mpitune/core/error.hpp"
#include "mpitune/train/gpt_trainable.hpp"
#include "support/temp_dir.hpp"
#include "train_test_config.hpp"

namespace mpitune {
namespace {

// This process's virtual size now (bytes), from /proc/self/statm.
long long virtual_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long long pages = -1;
  if (std::fscanf(f, "%lld", &pages) != 1) pages = -1;
  std::fclose(f);
  return pages < 0 ? -1 : pages * static_cast<long long>(sysconf(_SC_PAGESIZE));
}

// Lowers the soft address-space limit to `bytes` for its lifetime (the hard limit stays, so the
// old soft limit can be restored).
class AddressSpaceLimit {
 public:
  explicit AddressSpaceLimit(rlim_t bytes) {
    ok_ = getrlimit(RLIMIT_AS, &old_) == 0;
    rlimit lowered = old_;
    lowered.rlim_cur = bytes;
    ok_ = ok_ && setrlimit(RLIMIT_AS, &lowered) == 0;
  }
  ~AddressSpaceLimit() {
    if (ok_) setrlimit(RLIMIT_AS, &old_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  bool ok_ = false;
};

TEST(OutOfMemory, AStepThatDoesNotFitFailsItsTrialAndTheNextTrialRuns) {
  testing::TempDir dir;
  testing::write_file(dir.file("toy.txt"), testing::toy_text(20000));
  auto t = make_gpt_trainable(testing::tiny_gpt_config(dir.file("toy.txt")), nullptr);
  // A warm-up trial first, so the threads and buffers a normal step needs exist before the limit.
  t->start(1, HParams{}, 1, 10);
  ASSERT_TRUE(std::isfinite(t->train_step().loss));
  t->release();

  // 65,536 sequences of 32 tokens: the logits alone are 65,536 x 32 x 256 x 4 bytes = 2 GiB.
  HParams huge;
  huge.set("batch_size", 65536);
  t->start(2, huge, 1, 10);
  const long long now = virtual_bytes();
  ASSERT_GT(now, 0);
  std::string reason;
  {
    AddressSpaceLimit limit(static_cast<rlim_t>(now) + (rlim_t(512) << 20));  // 512 MiB more than now
    ASSERT_TRUE(limit.ok());
    try {
      t->train_step();
    } catch (const TrialError& e) {
      reason = e.what();
    }
  }
  EXPECT_NE(reason.find("training step: out of memory"), std::string::npos) << reason;
  EXPECT_NE(reason.find("lower train.batch_size"), std::string::npos) << reason;
  t->release();  // what the worker does with a failed trial

  t->start(3, HParams{}, 1, 10);
  EXPECT_EQ(t->step(), 0);
  EXPECT_TRUE(std::isfinite(t->train_step().loss));
  EXPECT_EQ(t->step(), 1);
}

}  // namespace
}  // namespace mpitune
