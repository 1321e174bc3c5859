// The GPT trainable's side of the end of the search: per-document test losses (the same for any
// group size, each document scored from its own tokens only), the retention loss at every eval
// point, and a search in the simulator that never reads the test split before the final
// evaluation.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <mutex>

#include "mpitune/coord/simulator.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/train/document_losses.hpp"
#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/gpt_trainable.hpp"
#include "support/temp_dir.hpp"
#include "train_test_config.hpp"
#include "unit/comm/run_ranks.hpp"

namespace mpitune {
namespace {

class GptFinalEval : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_file(dir_.file("toy.txt"), testing::toy_text(20000));
    testing::write_file(dir_.file("retention.txt"), testing::toy_text(3000));
  }
  ExperimentConfig config(const std::string& extra = "") {
    return testing::tiny_gpt_config(dir_.file("toy.txt"),
                                    "[data]\ntest_fraction = 0.1\nretention_corpus = " + dir_.file("retention.txt") +
                                        "\n" + extra);
  }
  testing::TempDir dir_;
};

// The reference: each target of a document from the document's tokens before it, in windows
// of seq_len targets starting at the document's first token (the first token is not a target).
double reference_document_loss(GptModel& m, const std::vector<int64_t>& doc, int64_t seq_len) {
  double total = 0;
  for (size_t s = 0; s + 1 < doc.size(); s += static_cast<size_t>(seq_len)) {
    const size_t end = std::min(doc.size(), s + static_cast<size_t>(seq_len) + 1);
    std::vector<int64_t> in(doc.begin() + static_cast<long>(s), doc.begin() + static_cast<long>(end) - 1);
    const at::Tensor tokens = at::tensor(in, at::kLong).reshape({1, static_cast<int64_t>(in.size())});
    const at::Tensor logp = at::log_softmax(m.forward_logits(tokens)[0], -1);
    for (size_t j = 0; j < in.size(); ++j) total -= logp[static_cast<int64_t>(j)][doc[s + j + 1]].item<double>();
  }
  return total;
}

TEST_F(GptFinalEval, DocumentLossesScoreEachDocumentFromItsOwnTokens) {
  auto t = make_gpt_trainable(config(), nullptr);
  t->start(0, HParams{}, 3, 10);
  for (int i = 0; i < 3; ++i) t->train_step();
  GptModel& m = *gpt_model_of(*t);
  // Three documents: shorter than, exactly, and longer than one window (seq_len 32).
  std::vector<int32_t> ids;
  std::vector<int64_t> begin{0};
  std::vector<std::vector<int64_t>> docs;
  for (int64_t len : {7, 33, 80}) {
    std::vector<int64_t> doc;
    for (int64_t i = 0; i < len; ++i) doc.push_back(32 + (i * 7 + len) % 90);
    for (int64_t v : doc) ids.push_back(static_cast<int32_t>(v));
    begin.push_back(static_cast<int64_t>(ids.size()));
    docs.push_back(doc);
  }
  TokenSplit split;
  split.size = static_cast<int64_t>(ids.size());
  split.ids = ids.data();
  split.documents = 3;
  split.doc_begin = begin.data();
  const Trainable::DocumentLosses got = document_losses(m, split, 32, 2, nullptr);
  ASSERT_EQ(got.loss_sums.size(), 3u);
  for (size_t d = 0; d < 3; ++d) {
    EXPECT_EQ(got.tokens[d], static_cast<int64_t>(docs[d].size()) - 1);
    EXPECT_NEAR(got.loss_sums[d], reference_document_loss(m, docs[d], 32), 1e-3) << "document " << d;
  }
}

TEST_F(GptFinalEval, TwoRanksGiveTheOneRankDocumentLosses) {
  auto dense = make_gpt_trainable(config(), nullptr);
  dense->start(1, HParams{}, 4, 20);
  const Trainable::DocumentLosses ref = dense->evaluate_test_documents();
  ASSERT_GT(ref.loss_sums.size(), 5u);
  testing::run_ranks(2, [&](std::shared_ptr<Collectives> c) {
    auto t = make_gpt_trainable(config(), c);
    t->start(1, HParams{}, 4, 20);
    const Trainable::DocumentLosses got = t->evaluate_test_documents();
    ASSERT_EQ(got.loss_sums.size(), ref.loss_sums.size());
    for (size_t d = 0; d < got.loss_sums.size(); ++d) {
      EXPECT_NEAR(got.loss_sums[d], ref.loss_sums[d], 1e-4 * std::max(1.0, ref.loss_sums[d])) << d;
      EXPECT_EQ(got.tokens[d], ref.tokens[d]);
    }
  });
}

// Wraps the trainable of a virtual group and records whether the test split was read before
// the final evaluation asked for it.
class TestSplitWatch final : public Trainable {
 public:
  explicit TestSplitWatch(std::unique_ptr<Trainable> inner) : inner_(std::move(inner)) {}
  static int64_t reads() { return token_split_accesses(SplitKind::Test); }
  void start(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) override {
    inner_->start(trial, hp, seed, max_steps);
  }
  int64_t step() const override { return inner_->step(); }
  StepResult train_step() override { return watched([&] { return inner_->train_step(); }); }
  double evaluate() override { return watched([&] { return inner_->evaluate(); }); }
  double evaluate_retention() override { return watched([&] { return inner_->evaluate_retention(); }); }
  DocumentLosses evaluate_test_documents() override {
    ++final_calls;
    return inner_->evaluate_test_documents();
  }
  void release() override { inner_->release(); }
  void save_checkpoint(const std::string& dir) override { inner_->save_checkpoint(dir); }
  void load_checkpoint(const std::string& dir, int64_t trial, const HParams& hp) override {
    inner_->load_checkpoint(dir, trial, hp);
  }

  static inline int64_t reads_during_search = 0;
  static inline int final_calls = 0;

 private:
  template <class F>
  auto watched(F&& f) -> decltype(f()) {
    const int64_t before = reads();
    auto v = f();
    if (final_calls == 0) reads_during_search += reads() - before;
    return v;
  }
  std::unique_ptr<Trainable> inner_;
};

TEST_F(GptFinalEval, ASearchNeverReadsTheTestSplitAndTheFinalEvaluationDoes) {
  const ExperimentConfig cfg = config(
      "[experiment]\nmax_trials = 4\n[scheduler]\ntype = asha\nmax_t = 9\ngrace_period = 1\nreduction_factor = 3\n"
      "[train]\neval_interval = 3\n");
  TestSplitWatch::reads_during_search = 0;
  TestSplitWatch::final_calls = 0;
  const int64_t before = TestSplitWatch::reads();
  SimulationSetup s;
  s.cfg = &cfg;
  s.num_groups = 2;
  s.make_trainable = [&] { return std::make_unique<TestSplitWatch>(make_gpt_trainable(cfg, nullptr)); };
  const SimulationResult r = simulate(s);
  EXPECT_EQ(TestSplitWatch::reads_during_search, 0);
  EXPECT_EQ(TestSplitWatch::final_calls, 1);
  EXPECT_GT(TestSplitWatch::reads(), before);  // the final evaluation read it

  ASSERT_EQ(r.data.finals.size(), 1u);  // scratch model: no "base" row
  const FinalRecord& f = r.data.finals[0];
  EXPECT_EQ(f.label, "best");
  EXPECT_TRUE(std::isfinite(f.test_loss));
  EXPECT_LE(f.test_ci_low, f.test_loss);
  EXPECT_GE(f.test_ci_high, f.test_loss);
  EXPECT_TRUE(std::isfinite(f.retention_loss));
  // The retention loss comes with every evaluation, and only with it.
  int evaluated = 0;
  for (const auto& m : r.data.metrics) {
    EXPECT_EQ(std::isnan(m.eval_loss), std::isnan(m.retention_loss)) << "trial " << m.trial << " step " << m.step;
    evaluated += !std::isnan(m.retention_loss);
  }
  EXPECT_GE(evaluated, 4);  // every trial at least once
}

}  // namespace
}  // namespace mpitune
