// The [faults] modes: throw and nan fail the trial in-process; kill and stop act on the whole
// process, so they run in a fork()ed child whose end the parent inspects with waitpid.
#include "mpitune/core/fault_injection.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

// Counts steps; every other answer is a fixed, recognisable value, to see what is forwarded.
class CountingTrainable final : public Trainable {
 public:
  void start(int64_t, const HParams&, uint64_t, int64_t) override { step_ = 0; }
  int64_t step() const override { return step_; }
  StepResult train_step() override {
    ++step_;
    StepResult r;
    r.loss = 1.0 / static_cast<double>(step_);
    return r;
  }
  double evaluate() override { return 0.5; }
  double evaluate_retention() override { return 0.25; }
  DocumentLosses evaluate_test_documents() override { return {{3.0, 4.0}, {2, 5}}; }
  void release() override {}
  void save_checkpoint(const std::string&) override {}
  void load_checkpoint(const std::string&, int64_t, const HParams&) override { step_ = 2; }

 private:
  int64_t step_ = 0;
};

FaultOptions faults(const std::string& mode, std::vector<int64_t> trials = {3}, int64_t at = 2, int rank = -1) {
  FaultOptions f;
  f.fail_trials = std::move(trials);
  f.fail_at_step = at;
  f.fail_mode = mode;
  f.fail_rank = rank;
  return f;
}

std::unique_ptr<Trainable> wrapped(const FaultOptions& f, int group_rank = 0) {
  return with_fault_injection(std::make_unique<CountingTrainable>(), f, group_rank);
}

TEST(FaultInjection, ThrowFailsTheChosenTrialAtTheChosenStepOnly) {
  auto t = wrapped(faults("throw"));
  t->start(3, {}, 0, 10);
  EXPECT_NO_THROW(t->train_step());
  EXPECT_THROW(t->train_step(), TrialError);
  t->start(4, {}, 0, 10);  // another trial: not armed
  for (int i = 0; i < 4; ++i) EXPECT_NO_THROW(t->train_step());
}

TEST(FaultInjection, NanReturnsANonFiniteLossAtTheStep) {
  auto t = wrapped(faults("nan"));
  t->start(3, {}, 0, 10);
  EXPECT_TRUE(std::isfinite(t->train_step().loss));
  EXPECT_TRUE(std::isnan(t->train_step().loss));
  EXPECT_TRUE(std::isfinite(t->train_step().loss));
}

TEST(FaultInjection, ATrialLoadedPastTheStepNeverFails) {
  auto t = wrapped(faults("throw", {3}, 2));
  t->load_checkpoint("unused", 3, {});  // at step 2: the faulty step is behind it
  for (int i = 0; i < 3; ++i) EXPECT_NO_THROW(t->train_step());
}

TEST(FaultInjection, OtherRanksOfTheGroupAndEmptyListsAreLeftAlone) {
  auto inner = std::make_unique<CountingTrainable>();
  Trainable* raw = inner.get();
  EXPECT_EQ(with_fault_injection(std::move(inner), faults("kill", {3}, 2, 1), 0).get(), raw);
  auto none = std::make_unique<CountingTrainable>();
  raw = none.get();
  EXPECT_EQ(with_fault_injection(std::move(none), faults("kill", {}), 0).get(), raw);
}

TEST(FaultInjection, EvaluationsReachTheWrappedTrainable) {
  auto t = wrapped(faults("throw"));
  t->start(3, {}, 0, 10);
  EXPECT_DOUBLE_EQ(t->evaluate(), 0.5);
  EXPECT_DOUBLE_EQ(t->evaluate_retention(), 0.25);
  const auto docs = t->evaluate_test_documents();
  EXPECT_EQ(docs.loss_sums, (std::vector<double>{3.0, 4.0}));
  EXPECT_EQ(docs.tokens, (std::vector<int64_t>{2, 5}));
}

// Runs trial `trial` for `steps` steps in a child process; the child exits 0 when it gets
// through them. Returns the child's pid.
pid_t run_in_child(const FaultOptions& f, int64_t trial, int steps) {
  std::fflush(nullptr);  // no buffered output duplicated into the child
  const pid_t pid = fork();
  if (pid < 0) throw InfraError(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    auto t = wrapped(f);
    t->start(trial, {}, 0, 10);
    for (int i = 0; i < steps; ++i) t->train_step();
    _exit(0);
  }
  return pid;
}

int wait_for(pid_t pid, int options) {
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, options);
  while (r < 0 && errno == EINTR);
  if (r != pid) throw InfraError(std::string("waitpid failed: ") + std::strerror(errno));
  return status;
}

TEST(FaultInjection, KillEndsTheProcessBySigkillAtTheStep) {
  const int status = wait_for(run_in_child(faults("kill", {3}, 2), 3, 5), 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(FaultInjection, KillLeavesOtherTrialsAndEarlierStepsAlone) {
  // Trial 4 is not in the list; trial 3 stops one step short of the faulty one.
  for (auto [trial, steps] : {std::pair<int64_t, int>{4, 5}, {3, 1}}) {
    const int status = wait_for(run_in_child(faults("kill", {3}, 2), trial, steps), 0);
    ASSERT_TRUE(WIFEXITED(status)) << "trial " << trial << " status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
}

TEST(FaultInjection, StopFreezesTheProcessAtTheStepAndItGoesOnWhenContinued) {
  const pid_t pid = run_in_child(faults("stop", {3}, 2), 3, 5);
  const int stopped = wait_for(pid, WUNTRACED);
  ASSERT_TRUE(WIFSTOPPED(stopped)) << "status " << stopped;
  EXPECT_EQ(WSTOPSIG(stopped), SIGSTOP);
  // Continued, the child finishes its steps (a stopped rank is hung, not dead).
  ASSERT_EQ(kill(pid, SIGCONT), 0) << std::strerror(errno);
  const int ended = wait_for(pid, 0);
  ASSERT_TRUE(WIFEXITED(ended)) << "status " << ended;
  EXPECT_EQ(WEXITSTATUS(ended), 0);
}

TEST(FaultInjection, AStoppedChildCanBeKilled) {
  const pid_t pid = run_in_child(faults("stop", {3}, 1), 3, 5);
  ASSERT_TRUE(WIFSTOPPED(wait_for(pid, WUNTRACED)));
  ASSERT_EQ(kill(pid, SIGKILL), 0) << std::strerror(errno);
  const int status = wait_for(pid, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

}  // namespace
}  // namespace mpitune
