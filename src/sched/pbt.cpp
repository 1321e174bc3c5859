// Population-based training: the population, turn-taking, ranking, exploit and explore.
// The contract with the coordinator (clone step semantics, deferred clones, turn-taking,
// barriers) is spelled out in pbt.hpp; this file keeps one record per trial and applies it.
#include "mpitune/sched/pbt.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string fmt(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

void validate(const PbtOptions& o) {
  if (o.population < 1)
    throw ConfigError("scheduler.population", "must be >= 1, got " + std::to_string(o.population),
                      "use e.g. population = 8");
  if (o.perturbation_interval < 1)
    throw ConfigError("scheduler.perturbation_interval", "must be >= 1", "use e.g. perturbation_interval = 10");
  if (o.max_t < 1) throw ConfigError("scheduler.max_t", "must be >= 1", "use e.g. max_t = 100");
  if (!(o.quantile_fraction >= 0 && o.quantile_fraction <= 0.5))
    throw ConfigError("scheduler.quantile_fraction", "must be in [0, 0.5]", "use e.g. quantile_fraction = 0.25");
  if (!(o.resample_probability >= 0 && o.resample_probability <= 1))
    throw ConfigError("scheduler.resample_probability", "must be in [0, 1]", "use e.g. resample_probability = 0.25");
  if (o.perturbation_factors.empty())
    throw ConfigError("scheduler.perturbation_factors", "needs at least one factor", "use e.g. 0.8, 1.2");
  for (double f : o.perturbation_factors)
    if (!(f > 0) || !std::isfinite(f))
      throw ConfigError("scheduler.perturbation_factors", "factors must be positive, got " + fmt(f),
                        "use e.g. 0.8, 1.2");
  if (o.burn_in < 0) throw ConfigError("scheduler.burn_in", "must be >= 0", "use 0 for no burn-in");
}

}  // namespace

int64_t pbt_quantile_count(int64_t n, double quantile_fraction) {
  if (n <= 0) return 0;
  // Ray: ceil(n * q), and no more than half, so the top and bottom sets never overlap. The
  // slack keeps exact products (8 * 0.25) from rounding up to the next integer.
  const int64_t k = static_cast<int64_t>(std::ceil(static_cast<double>(n) * quantile_fraction - 1e-9));
  return std::max<int64_t>(0, std::min(k, n / 2));
}

HParams pbt_explore(const Space& space, const HParams& hp, Rng& rng, const PbtOptions& o) {
  HParams out = hp;
  for (const Domain& d : space.domains()) {
    const ParamValue* cur = hp.find(d.name);
    // Always draw the resample coin first, so the stream consumed per dimension does not
    // depend on the branch taken in earlier dimensions' values.
    const bool resample = rng.bernoulli(o.resample_probability);
    if (!cur || resample) {
      out.set(d.name, d.sample(rng));
      continue;
    }
    if (d.is_categorical()) {
      const int64_t last = static_cast<int64_t>(d.values.size()) - 1;
      const int64_t idx = static_cast<int64_t>(d.to_unit(*cur));
      const int64_t moved = std::clamp<int64_t>(idx + (rng.bernoulli(0.5) ? 1 : -1), 0, last);
      out.set(d.name, d.values[static_cast<size_t>(moved)]);
    } else {
      const size_t f = static_cast<size_t>(
          rng.integer(0, static_cast<int64_t>(o.perturbation_factors.size()) - 1));
      out.set(d.name, d.clip(cur->as_double() * o.perturbation_factors[f]));
    }
  }
  return out;
}

namespace {

class PbtScheduler final : public Scheduler {
 public:
  PbtScheduler(const Space& space, uint64_t seed, const PbtOptions& o) : space_(space), seed_(seed), o_(o) {
    validate(o);
  }

  std::string name() const override { return "pbt"; }

  NextWork next(bool can_start_new) override {
    OtherDecisions others;
    if (!can_start_new && !closed_) {
      closed_ = true;  // the population keeps the trials it has
      if (o_.synchronous) settle_sync(-1, nullptr, others);
    }
    Assignment a;
    if (open_slots() > 0) {
      a.kind = Assignment::Kind::NewTrial;
      a.budget = static_cast<double>(until_from(0));
      return {a, std::move(others)};
    }
    if (const TrialId id = next_to_resume(); id >= 0) {
      Member& m = members_.at(id);
      if (m.pending_source >= 0) {
        // Deferred clone: the coordinator copies the source's state now, at its state step.
        m.step = members_.at(m.pending_source).step;
        m.pending_source = -1;
      }
      m.state = State::Running;
      a.kind = Assignment::Kind::Resume;
      a.trial = id;
      a.until = until_from(m.step);
      return {a, std::move(others)};
    }
    bool any_live = false;
    for (const auto& [id, m] : members_) any_live |= live(m);
    a.kind = any_live ? Assignment::Kind::Wait : Assignment::Kind::Done;
    return {a, std::move(others)};
  }

  TrialStart on_trial_start(TrialId id, const HParams& hp, const Assignment&) override {
    MPITUNE_CHECK(!members_.count(id), "pbt: trial " + std::to_string(id) + " started twice");
    Member m;
    m.hp = hp;
    members_[id] = m;
    ++created_;
    return until_from(0);
  }

  Decisions on_segment_end(TrialId id, int64_t step, double loss) override {
    auto it = members_.find(id);
    MPITUNE_CHECK(it != members_.end() && it->second.state == State::Running,
                  "pbt: segment end of trial " + std::to_string(id) + " that is not running");
    Member& x = it->second;
    x.step = step;
    x.score = std::isnan(loss) ? kInf : loss;
    x.has_score = true;
    OtherDecisions others;
    if (step >= o_.max_t) {
      x.state = State::Completed;
      if (o_.synchronous) settle_sync(-1, nullptr, others);
      return {Decision::make(Action::Complete, "reached max_t = " + std::to_string(o_.max_t)), std::move(others)};
    }
    if (!o_.synchronous) return decide_async(id);
    x.state = State::Waiting;
    std::optional<Decision> mine;
    settle_sync(id, &mine, others);
    if (mine) return {*mine, std::move(others)};
    return {Decision::make(Action::Pause, "waits at step " + std::to_string(step) + " for " + behind_text(step)),
            std::move(others)};
  }

  OtherDecisions on_trial_failed(TrialId id) override {
    OtherDecisions others;
    auto it = members_.find(id);
    if (it == members_.end() || !live(it->second)) return others;
    it->second.state = State::Failed;
    it->second.pending_source = -1;
    ++failed_;
    if (o_.synchronous) settle_sync(-1, nullptr, others);
    return others;
  }

  int64_t max_steps() const override { return o_.max_t; }

 private:
  enum class State {
    Running,    // on a group
    Ready,      // paused, waiting for a group (handed out by next())
    Waiting,    // synchronous mode: paused at a barrier until the others arrive
    Completed,
    Failed,
  };
  struct Member {
    HParams hp;                 // current hyperparameters (after explore)
    int64_t step = 0;           // state step: last segment end, or the step cloned at
    double score = kInf;        // loss at the last segment end
    bool has_score = false;     // false until it reports, and again right after a clone
    State state = State::Running;
    TrialId pending_source = -1;  // deferred clone: copy this trial's state at resume
  };
  struct Ranked {
    TrialId id;
    double score;
  };

  static bool live(const Member& m) {
    return m.state == State::Running || m.state == State::Ready || m.state == State::Waiting;
  }
  int64_t until_from(int64_t step) const { return std::min(step + o_.perturbation_interval, o_.max_t); }
  int64_t open_slots() const {
    if (closed_) return 0;
    return std::max<int64_t>(0, o_.population - (created_ - failed_));
  }

  // Live trials with a score for their current state, best first (ties: lower id).
  std::vector<Ranked> ranking() const {
    std::vector<Ranked> r;
    for (const auto& [id, m] : members_)
      if (live(m) && m.has_score) r.push_back({id, m.score});
    std::sort(r.begin(), r.end(), [](const Ranked& a, const Ranked& b) {
      return a.score != b.score ? a.score < b.score : a.id < b.id;
    });
    return r;
  }

  // Deferred clones first, then the trial furthest behind, then the lowest id.
  TrialId next_to_resume() const {
    TrialId best = -1;
    auto key = [&](TrialId id) {
      const Member& m = members_.at(id);
      return std::make_tuple(m.pending_source >= 0 ? 0 : 1, m.step, id);
    };
    for (const auto& [id, m] : members_)
      if (m.state == State::Ready && (best < 0 || key(id) < key(best))) best = id;
    return best;
  }

  struct ClonePlan {
    TrialId source = -1;
    HParams hp;
    std::string why;
  };
  // Exploit + explore for `target`, ranked at position pos of `r` with k the quantile count.
  ClonePlan plan_clone(TrialId target, int64_t step, const std::vector<Ranked>& r, size_t pos, int64_t k) const {
    Rng rng(derive_seed(derive_seed(seed_, "pbt", static_cast<uint64_t>(target)), "exploit",
                        static_cast<uint64_t>(step)));
    const size_t s = static_cast<size_t>(rng.integer(0, k - 1));
    ClonePlan p;
    p.source = r[s].id;
    const Member& src = members_.at(p.source);
    p.hp = pbt_explore(space_, src.hp, rng, o_);
    p.why = "rank " + std::to_string(pos + 1) + " of " + std::to_string(r.size()) + " (loss " +
            fmt(r[pos].score) + ") in the bottom " + std::to_string(k) + ": clone trial " +
            std::to_string(p.source) + " (rank " + std::to_string(s + 1) + ", loss " + fmt(src.score) +
            ", step " + std::to_string(src.step) + ") with " + p.hp.to_string();
    return p;
  }

  static size_t position(const std::vector<Ranked>& r, TrialId id) {
    for (size_t i = 0; i < r.size(); ++i)
      if (r[i].id == id) return i;
    return r.size();
  }

  Decision decide_async(TrialId id) {
    Member& x = members_.at(id);
    const int64_t s = x.step;
    const std::vector<Ranked> r = ranking();
    const int64_t k = pbt_quantile_count(static_cast<int64_t>(r.size()), o_.quantile_fraction);
    const size_t pos = position(r, id);
    const bool bottom = k > 0 && static_cast<int64_t>(pos) >= static_cast<int64_t>(r.size()) - k;
    if (bottom && s >= o_.burn_in) {
      ClonePlan p = plan_clone(id, s, r, pos, k);
      x.hp = p.hp;
      x.step = members_.at(p.source).step;  // the target continues from the source's state
      x.has_score = false;
      Decision d = Decision::make(Action::Clone, p.why);
      d.source = p.source;
      d.hparams = p.hp;
      d.until = until_from(x.step);
      return d;
    }
    std::string why = "rank " + std::to_string(pos + 1) + " of " + std::to_string(r.size()) + " (loss " +
                      fmt(x.score) + ")";
    if (bottom) why += " in the bottom " + std::to_string(k) + ", but step " + std::to_string(s) +
                       " < burn_in " + std::to_string(o_.burn_in);
    else why += ", not in the bottom " + std::to_string(k);
    if (const std::string waiter = someone_waiting(id, s); !waiter.empty()) {
      x.state = State::Ready;
      return Decision::make(Action::Pause, why + "; pauses: " + waiter);
    }
    return Decision::cont(until_from(s), why);
  }

  // Why trial `id` at step s should give its group away (empty: it should not).
  std::string someone_waiting(TrialId id, int64_t s) const {
    if (open_slots() > 0) return "population slots still to be created";
    TrialId w = -1;
    for (const auto& [oid, m] : members_)
      if (oid != id && m.state == State::Ready && m.step <= s && (w < 0 || m.step < members_.at(w).step)) w = oid;
    if (w < 0) return "";
    return "trial " + std::to_string(w) + " (step " + std::to_string(members_.at(w).step) + ") waits for a group";
  }

  std::string behind_text(int64_t s) const {
    int64_t n = open_slots();
    for (const auto& [id, m] : members_)
      if (live(m) && m.step < s) ++n;
    return std::to_string(n) + " trial(s) behind";
  }

  // Synchronous mode, after any event: completes a barrier when every live trial waits at the
  // same step, or releases waiting trials nobody is behind any more (catch-up, not ranked).
  // `arriving` is the trial whose segment just ended (its decision goes to *mine), or -1; the
  // Rebases of paused trials a barrier clones go to `others`.
  void settle_sync(TrialId arriving, std::optional<Decision>* mine, OtherDecisions& others) {
    if (open_slots() > 0) return;  // a trial still to be created is behind everyone
    int64_t lowest = std::numeric_limits<int64_t>::max();
    bool all_waiting = true, any_live = false;
    for (const auto& [id, m] : members_) {
      if (!live(m)) continue;
      any_live = true;
      lowest = std::min(lowest, m.step);
      all_waiting &= m.state == State::Waiting;
    }
    if (!any_live) return;
    bool same_step = true;
    for (const auto& [id, m] : members_)
      if (live(m)) same_step &= m.step == lowest;
    if (all_waiting && same_step) {
      barrier(lowest, arriving, mine, others);
      return;
    }
    for (auto& [id, m] : members_) {
      if (m.state != State::Waiting || m.step != lowest) continue;
      if (id == arriving) {
        m.state = State::Running;
        *mine = Decision::cont(until_from(m.step), "catches up: no trial behind it, others ahead at a later barrier");
      } else {
        m.state = State::Ready;
      }
    }
  }

  // Every live trial waits at step w: rank them all, clone the bottom k, release everyone.
  void barrier(int64_t w, TrialId arriving, std::optional<Decision>* mine, OtherDecisions& others) {
    const std::vector<Ranked> r = ranking();
    const int64_t k = pbt_quantile_count(static_cast<int64_t>(r.size()), o_.quantile_fraction);
    const bool exploit = k > 0 && w >= o_.burn_in;
    std::map<TrialId, ClonePlan> plans;  // planned before any change: sources keep their state
    if (exploit)
      for (size_t pos = r.size() - static_cast<size_t>(k); pos < r.size(); ++pos)
        plans[r[pos].id] = plan_clone(r[pos].id, w, r, pos, k);
    for (auto& [id, m] : members_) {
      if (m.state != State::Waiting) continue;
      m.state = State::Ready;
      auto p = plans.find(id);
      if (p == plans.end()) continue;
      m.hp = p->second.hp;
      m.has_score = false;
      Decision d = Decision::make(Action::Clone, "barrier at step " + std::to_string(w) + ": " + p->second.why);
      d.source = p->second.source;
      d.hparams = p->second.hp;
      if (id == arriving) {
        m.state = State::Running;  // the source waits at w, so its state can be copied now
        m.step = members_.at(d.source).step;
        d.until = until_from(m.step);
        *mine = d;
      } else {
        m.pending_source = d.source;
        d.action = Action::Rebase;  // deferred: copied when next() hands out its Resume
        others.push_back({id, d});
      }
    }
    if (arriving < 0 || plans.count(arriving)) return;
    Member& x = members_.at(arriving);
    const size_t pos = position(r, arriving);
    std::string why = "barrier at step " + std::to_string(w) + ": rank " + std::to_string(pos + 1) + " of " +
                      std::to_string(r.size());
    std::vector<TrialId> cloners;
    for (const auto& [id, p] : plans)
      if (p.source == arriving) cloners.push_back(id);
    if (!cloners.empty()) {
      // Keep its state at w until the deferred copies are made (next() hands them out first).
      std::string who;
      for (TrialId c : cloners) who += (who.empty() ? "" : ", ") + std::to_string(c);
      *mine = Decision::make(Action::Pause, why + "; holds its state for the clones of trial(s) " + who);
      return;
    }
    x.state = State::Running;
    *mine = Decision::cont(until_from(w), why + (exploit ? ", not in the bottom " + std::to_string(k)
                                                         : w < o_.burn_in ? ", no exploit before burn_in" : ""));
  }

  Space space_;
  uint64_t seed_;
  PbtOptions o_;
  std::map<TrialId, Member> members_;
  int64_t created_ = 0;
  int64_t failed_ = 0;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<Scheduler> make_pbt_scheduler(const Space& space, uint64_t seed, const PbtOptions& o) {
  return std::make_unique<PbtScheduler>(space, seed, o);
}

}  // namespace mpitune
