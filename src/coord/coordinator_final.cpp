// The coordinator's final phase (experiment final_eval): once the search has ended, the best
// trial's kept weights, or a retrain of its configuration at max_t, and the base model are
// evaluated once on the test split by idle groups; each result becomes a /final row with a
// bootstrap interval.
#include "mpitune/coord/coordinator_core.hpp"

#include <string>
#include <vector>

#include "mpitune/core/bootstrap.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/rng.hpp"
#include "coordinator_detail.hpp"

namespace mpitune {

using namespace coord_detail;

bool CoordinatorCore::begin_final_phase(double now) {
  if (!opts_.final_eval) return false;
  // Paused trials can no longer resume (finish() would end them): they end now, so that one of
  // them that is the best is kept (its checkpoint moves to the keep root) and evaluated.
  for (auto& [id, e] : table_)
    if (e.row.status == TrialStatus::Paused)
      end_trial(id, TrialStatus::Stopped, budget_spent_ ? "time budget reached" : "experiment ended", now);
  const BestChoice best = best_choice(/*ended_only=*/true);
  if (best.trial < 0) return false;
  const TrialRecord& bt = row_of(best.trial);
  const uint64_t seed = state_of(best.trial).seed;
  const int64_t max_steps = scheduler_.max_steps();
  auto final_eval = [&](const std::string& label, const std::string& checkpoint) {
    FinalEvalMsg f;
    f.label = label;
    f.trial = best.trial;
    f.hparams = bt.hparams;
    f.seed = seed;
    f.max_steps = max_steps;
    f.checkpoint = checkpoint;
    return f;
  };
  if (opts_.final_retrain) {
    const TrialId id = next_trial_++;
    retrain_trial_ = id;
    TrialRecord t;
    t.id = id;
    t.hparams = bt.hparams;
    t.start_time = now;
    t.params_total = bt.params_total;
    t.params_trainable = bt.params_trainable;
    add_trial(t, opts_.final_seed);
    record_decision(id, 0, "start",
                    Decision::cont(max_steps, "final retrain of the best configuration (trial " +
                                                  std::to_string(best.trial) + ") at max_t with seed " +
                                                  std::to_string(opts_.final_seed)),
                    now);
    final_queue_.push_back({-1, segment_for(id, 0, max_steps, SegmentInit::Fresh)});
  } else if (kept_.count(best.trial)) {
    final_queue_.push_back({-1, final_eval("best", trial_checkpoint_dir(opts_.keep_root, best.trial))});
  } else {
    record_decision(best.trial, bt.last_step, "final_eval",
                    Decision::make(Action::Complete, "the best trial was not evaluated on the test split: its final "
                                                     "weights were not kept (experiment.keep = " + opts_.keep + ")"),
                    now);
  }
  if (opts_.final_base) final_queue_.push_back({-1, final_eval("base", "")});
  return !final_queue_.empty();
}

bool CoordinatorCore::assign_final_work(std::vector<Outgoing>& out, double now) {
  for (auto it = final_queue_.begin(); it != final_queue_.end();) {
    int group = it->prefer_group;
    if (group < 0)
      for (size_t i = 0; i < groups_.size() && group < 0; ++i)
        if (groups_[i].state == GroupState::Idle) group = static_cast<int>(i);
    if (group < 0 || groups_[group].state != GroupState::Idle) {
      ++it;
      continue;
    }
    if (auto* seg = std::get_if<SegmentMsg>(&it->order)) {
      set_busy(group, seg->trial, seg->stop);
    } else {
      groups_[group].state = GroupState::Final;
      groups_[group].trial = std::get<FinalEvalMsg>(it->order).trial;
    }
    ++final_running_;
    out.push_back({group, std::move(it->order)});
    it = final_queue_.erase(it);
  }
  (void)now;
  return !final_queue_.empty() || final_running_ > 0;
}

// The final retrain reached max_t (its evaluation on the test split comes next, on the group
// that holds it) or was stopped (the time budget: no evaluation).
std::vector<Outgoing> CoordinatorCore::on_retrain_done(int group, const SegmentDoneMsg& m, double now) {
  const TrialId id = m.trial;
  std::optional<std::string>& stopped = state_of(id).stop_order;
  if (m.interrupted || stopped) {
    const std::string why = stopped ? *stopped : "stopped";
    stopped.reset();
    record_decision(id, m.step, "stop", Decision::make(Action::Stop, why), now);
    end_trial(id, TrialStatus::Stopped, why, now);
    --final_running_;
    return maybe_shutdown(now);
  }
  record_decision(id, m.step, "complete", Decision::make(Action::Complete, "final retrain reached max_t"), now);
  end_trial(id, TrialStatus::Completed, "final retrain of the best configuration", now);
  const TrialRecord& t = row_of(id);
  FinalEvalMsg f;
  f.label = "retrain";
  f.trial = id;
  f.hparams = t.hparams;
  f.seed = state_of(id).seed;
  f.max_steps = scheduler_.max_steps();
  f.held = true;
  groups_[group].state = GroupState::Final;
  groups_[group].trial = id;
  return {{group, f}};
}

std::vector<Outgoing> CoordinatorCore::on_final_eval_done(int group, const FinalEvalDoneMsg& f, double now) {
  GroupInfo& g = groups_[group];
  MPITUNE_CHECK(g.state == GroupState::Final, "group " + std::to_string(group) +
                                                  " sent a final evaluation it was not asked for");
  g.state = GroupState::Idle;
  g.trial = -1;
  --final_running_;
  int64_t tokens = 0;
  for (int64_t n : f.doc_tokens) tokens += n;
  std::string problem = f.ok ? "" : f.reason;
  if (f.ok && (f.doc_tokens.size() != f.doc_loss_sums.size() || tokens == 0))
    problem = "the test split has no counted token";
  if (!problem.empty()) {
    record_decision(f.trial, f.step, "final_eval",
                    Decision::make(Action::Complete, f.label + ": the test evaluation failed: " + problem), now);
    return maybe_shutdown(now);
  }
  const BootstrapInterval b =
      bootstrap_mean_loss(f.doc_loss_sums, f.doc_tokens, opts_.final_bootstrap, derive_seed(opts_.seed, "final"));
  FinalRecord r;
  r.label = f.label;
  r.trial = f.trial;
  r.step = f.step;
  r.hparams = table_.count(f.trial) ? row_of(f.trial).hparams.to_string() : "";
  r.eval_loss = f.eval_loss;
  r.test_loss = b.estimate;
  r.test_ci_low = b.low;
  r.test_ci_high = b.high;
  r.test_documents = static_cast<int64_t>(f.doc_tokens.size());
  r.test_tokens = tokens;
  r.bootstrap = b.resamples;
  r.retention_loss = f.retention_loss;
  r.seconds = f.seconds;
  std::vector<FinalDocumentRecord> docs(f.doc_tokens.size());
  for (size_t i = 0; i < docs.size(); ++i) docs[i] = {f.label, static_cast<int64_t>(i), f.doc_loss_sums[i], f.doc_tokens[i]};
  store_.append_final(r, docs);
  row_of(f.trial).device_seconds += f.seconds * opts_.group_size;
  record_decision(f.trial, f.step, "final_eval",
                  Decision::make(Action::Complete, f.label + ": test loss " + fmt(b.estimate) + " [" + fmt(b.low) +
                                                       ", " + fmt(b.high) + "] over " + std::to_string(docs.size()) +
                                                       " test documents"),
                  now);
  return maybe_shutdown(now);
}

}  // namespace mpitune
