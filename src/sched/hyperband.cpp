// Synchronous Hyperband: bracket arithmetic and the pause/resume successive-halving scheduler.
//
// State per bracket: its planned rungs, how many configurations it may still start, and per
// rung the trials there and their results. A rung is judged once every trial at it has a
// result; only then do its winners move on, which is what makes this "synchronous" and why
// trials finishing early are paused (their state kept in a checkpoint) instead of continuing.
#include "mpitune/sched/hyperband.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <optional>

#include "mpitune/core/error.hpp"
#include "mpitune/sched/rungs.hpp"

namespace mpitune {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Relative slack for floor/ceil of quantities that are integers in exact arithmetic
// (81 / 3^4, 5 * 81 / 5): a last-bit rounding error must not move them by one.
constexpr double kSlack = 1e-9;

void validate(int64_t min_t, int64_t max_t, double eta) {
  if (max_t < 1)
    throw ConfigError("scheduler.max_t", "must be >= 1, got " + std::to_string(max_t), "use e.g. max_t = 81");
  if (min_t < 1 || min_t > max_t)
    throw ConfigError("scheduler.min_t",
                      "must be in [1, max_t = " + std::to_string(max_t) + "], got " + std::to_string(min_t),
                      "use e.g. min_t = 1");
  if (!(eta > 1) || !std::isfinite(eta))
    throw ConfigError("scheduler.reduction_factor", "must be > 1", "use e.g. reduction_factor = 3");
}

}  // namespace

int hyperband_s_max(int64_t min_t, int64_t max_t, double eta) {
  validate(min_t, max_t, eta);
  int s = 0;
  const double limit = static_cast<double>(max_t) * (1 + kSlack);
  for (double x = static_cast<double>(min_t) * eta; x <= limit; x *= eta) ++s;
  return s;
}

std::vector<HyperbandBracket> hyperband_brackets(int64_t min_t, int64_t max_t, double eta) {
  const int s_max = hyperband_s_max(min_t, max_t, eta);
  std::vector<HyperbandBracket> out;
  for (int s = s_max; s >= 0; --s) {
    HyperbandBracket b;
    b.s = s;
    // n = ceil(B / R * eta^s / (s + 1)) with B = (s_max + 1) R.
    const double n_exact = (s_max + 1) * std::pow(eta, s) / (s + 1);
    int64_t n = static_cast<int64_t>(std::ceil(n_exact * (1 - kSlack)));
    for (int i = 0; i <= s; ++i) {
      HyperbandRung r;
      r.n = n;
      r.budget = i == s ? max_t : std::llround(static_cast<double>(max_t) / std::pow(eta, s - i));
      if (i > 0 && r.budget <= b.rungs.back().budget)
        throw ConfigError("scheduler.reduction_factor",
                          "budgets of bracket s=" + std::to_string(s) + " round to the same step (" +
                              std::to_string(r.budget) + ")",
                          "use a larger reduction_factor or a larger max_t / min_t ratio");
      b.rungs.push_back(r);
      n = std::max<int64_t>(1, static_cast<int64_t>(std::floor(static_cast<double>(n) / eta + kSlack)));
    }
    out.push_back(std::move(b));
  }
  return out;
}

namespace {

class HyperbandScheduler final : public Scheduler {
 public:
  explicit HyperbandScheduler(const HyperbandOptions& o) : o_(o) {
    if (o.iterations < 1)
      throw ConfigError("scheduler.iterations", "must be >= 1, got " + std::to_string(o.iterations),
                        "use e.g. iterations = 1");
    const auto plan = hyperband_brackets(o.min_t, o.max_t, o.reduction_factor);
    for (int it = 0; it < o.iterations; ++it)
      for (const auto& p : plan) {
        Bracket b;
        b.plan = p;
        b.target = p.rungs.front().n;
        b.rungs.resize(p.rungs.size());
        brackets_.push_back(std::move(b));
      }
  }

  std::string name() const override { return "hyperband"; }

  NextWork next(bool can_start_new) override {
    OtherDecisions others;
    if (!can_start_new && !closed_) close_for_new_trials(others);
    Assignment a;
    // Brackets finish in order, mostly: skip the finished ones at the front (next() is asked
    // at every trial end, and a long experiment has thousands of brackets).
    while (first_open_ < brackets_.size() && brackets_[first_open_].done && brackets_[first_open_].resume.empty())
      ++first_open_;
    for (size_t b = first_open_; b < brackets_.size(); ++b) {
      Bracket& br = brackets_[b];
      if (br.resume.empty()) continue;
      const TrialId id = br.resume.front();
      br.resume.pop_front();
      Trial& t = trials_.at(id);
      t.state = State::Running;
      a.kind = Assignment::Kind::Resume;
      a.trial = id;
      a.until = br.plan.rungs[static_cast<size_t>(t.rung)].budget;
      a.bracket = static_cast<int>(b);
      return {a, std::move(others)};
    }
    if (can_start_new) {
      for (size_t b = first_open_; b < brackets_.size(); ++b) {
        const Bracket& br = brackets_[b];
        if (br.done || br.started >= br.target) continue;
        a.kind = Assignment::Kind::NewTrial;
        a.bracket = static_cast<int>(b);
        a.budget = static_cast<double>(br.plan.rungs.front().budget);
        return {a, std::move(others)};
      }
    }
    // Newest first, stopping at the first hit: the running trials are the recent ones, and this
    // runs at every Wait (a full scan made the simulator quadratic in trials).
    bool anyone_running = false;
    for (auto it = trials_.rbegin(); it != trials_.rend() && !anyone_running; ++it)
      anyone_running = it->second.state == State::Running;
    bool all_done = true;
    for (size_t b = brackets_.size(); b-- > first_open_ && all_done;) all_done = brackets_[b].done;
    // An unfinished bracket always has a running trial, a trial to resume, or (while new trials
    // may come) configurations to start; anything else is a bug that would stall the run.
    MPITUNE_CHECK(all_done || anyone_running, "hyperband: unfinished brackets but nothing to run");
    a.kind = all_done ? Assignment::Kind::Done : Assignment::Kind::Wait;
    return {a, std::move(others)};
  }

  TrialStart on_trial_start(TrialId id, const HParams&, const Assignment& a) override {
    MPITUNE_CHECK(a.bracket >= 0 && a.bracket < static_cast<int>(brackets_.size()),
                  "hyperband: trial " + std::to_string(id) + " started for unknown bracket " +
                      std::to_string(a.bracket));
    Bracket& br = brackets_[static_cast<size_t>(a.bracket)];
    MPITUNE_CHECK(!br.done && br.started < br.target,
                  "hyperband: bracket " + std::to_string(a.bracket) + " takes no more trials");
    MPITUNE_CHECK(!trials_.count(id), "hyperband: trial " + std::to_string(id) + " started twice");
    ++br.started;
    br.rungs.front().members.push_back(id);
    trials_[id] = Trial{a.bracket, 0, State::Running};
    return br.plan.rungs.front().budget;
  }

  Decisions on_segment_end(TrialId id, int64_t step, double loss) override {
    auto it = trials_.find(id);
    MPITUNE_CHECK(it != trials_.end() && it->second.state == State::Running,
                  "hyperband: segment end of trial " + std::to_string(id) + " that is not running");
    Trial& t = it->second;
    Bracket& br = brackets_[static_cast<size_t>(t.bracket)];
    const size_t r = static_cast<size_t>(t.rung);
    const int64_t budget = br.plan.rungs[r].budget;
    if (step < budget) {
      // A segment that ended short of its rung (should not happen): finish the rung's budget
      // rather than judging a result from fewer steps than the others had.
      return tag(Decision::cont(budget, "segment ended at step " + std::to_string(step) +
                                            " before the rung budget " + std::to_string(budget)),
                 t);
    }
    if (std::isnan(loss)) loss = kInf;
    Rung& rung = br.rungs[r];
    rung.results[id] = loss;
    std::optional<Decision> mine;
    OtherDecisions others;
    if (step >= o_.max_t) {
      t.state = State::Completed;
      mine = tag(Decision::make(Action::Complete, where(t) + ": reached max_t = " + std::to_string(o_.max_t)), t);
    } else {
      t.state = State::Paused;
    }
    settle(static_cast<size_t>(t.bracket), id, mine, others);
    if (mine) return {*mine, std::move(others)};
    return {tag(Decision::make(Action::Pause, where(t) + ": " + std::to_string(rung.results.size()) + " of " +
                                                  std::to_string(expected(br, r)) +
                                                  " results in, paused until the rung is complete"),
                t),
            std::move(others)};
  }

  OtherDecisions on_trial_failed(TrialId id) override {
    OtherDecisions others;
    auto it = trials_.find(id);
    if (it == trials_.end()) return others;
    Trial& t = it->second;
    if (t.state == State::Stopped || t.state == State::Completed || t.state == State::Failed) return others;
    Bracket& br = brackets_[static_cast<size_t>(t.bracket)];
    if (t.state == State::Promoted) br.resume.erase(std::find(br.resume.begin(), br.resume.end(), id));
    // Running or promoted: no result at its rung yet; paused: its result is replaced, so the
    // slot it would have taken goes to the next best trial.
    br.rungs[static_cast<size_t>(t.rung)].results[id] = kInf;
    t.state = State::Failed;
    std::optional<Decision> none;
    settle(static_cast<size_t>(t.bracket), -1, none, others);
    return others;
  }

  int64_t max_steps() const override { return o_.max_t; }

 private:
  enum class State {
    Running,    // training on a group (a segment towards its rung's budget)
    Paused,     // has its result at its rung; the rung is not complete yet
    Promoted,   // won its rung; paused, waiting in its bracket's resume queue
    Stopped,    // lost at a rung
    Completed,  // reached max_t
    Failed,     // failed or stopped from outside
  };
  struct Trial {
    int bracket = -1;
    int rung = 0;  // the rung it is at (promoted: the rung it will run to)
    State state = State::Running;
  };
  struct Rung {
    std::vector<TrialId> members;      // every trial that reached or was promoted to this rung
    std::map<TrialId, double> results;  // failed ones as +inf
    bool judged = false;
  };
  struct Bracket {
    HyperbandBracket plan;
    int64_t target = 0;   // configurations to start: n_0, or what it got once no new trials come
    int64_t started = 0;
    std::vector<Rung> rungs;
    std::deque<TrialId> resume;  // promoted trials waiting for a group, best first
    bool done = false;
  };

  // "bracket 1 rung 0 (3 steps)"
  std::string where(const Trial& t) const {
    const auto& br = brackets_[static_cast<size_t>(t.bracket)];
    return "bracket " + std::to_string(t.bracket) + " rung " + std::to_string(t.rung) + " (" +
           std::to_string(br.plan.rungs[static_cast<size_t>(t.rung)].budget) + " steps)";
  }
  static Decision tag(Decision d, const Trial& t) {
    d.bracket = t.bracket;
    d.rung = t.rung;
    return d;
  }
  // How many results rung r waits for: its members, and for rung 0 also the configurations
  // the bracket may still start.
  static int64_t expected(const Bracket& br, size_t r) {
    const int64_t members = static_cast<int64_t>(br.rungs[r].members.size());
    return r == 0 ? std::max(members, br.target) : members;
  }
  static bool complete(const Bracket& br, size_t r) {
    const Rung& rung = br.rungs[r];
    if (r == 0 && br.started < br.target) return false;
    return rung.results.size() == rung.members.size();
  }

  // Judges every rung of bracket b that has become complete, moving winners up; `arriving` is
  // the trial whose result just came in (its own decision goes to `mine`), or -1. Paused losers'
  // Stops go to `others`.
  void settle(size_t b, TrialId arriving, std::optional<Decision>& mine, OtherDecisions& others) {
    Bracket& br = brackets_[b];
    if (br.done) return;
    const size_t last = br.rungs.size() - 1;
    for (size_t r = 0; r <= last; ++r) {
      Rung& rung = br.rungs[r];
      if (rung.judged) continue;
      if (!complete(br, r)) return;
      rung.judged = true;
      if (r == last) break;
      if (judge(br, r, arriving, mine, others) == 0) break;  // nobody left to promote
    }
    br.done = true;
  }

  // Keeps the best max(1, floor(n / eta)) of rung r; returns how many were promoted.
  size_t judge(Bracket& br, size_t r, TrialId arriving, std::optional<Decision>& mine, OtherDecisions& others) {
    Rung& rung = br.rungs[r];
    std::vector<TrialId> order = rung.members;
    std::sort(order.begin(), order.end(), [&](TrialId x, TrialId y) {
      const double lx = rung.results.at(x), ly = rung.results.at(y);
      return lx != ly ? lx < ly : x < y;
    });
    const int64_t n = static_cast<int64_t>(order.size());
    const int64_t keep = topk_keep_count(n, o_.reduction_factor);
    const int64_t next_budget = br.plan.rungs[r + 1].budget;
    size_t promoted = 0;
    for (int64_t pos = 0; pos < n; ++pos) {
      const TrialId id = order[static_cast<size_t>(pos)];
      Trial& t = trials_.at(id);
      if (t.state == State::Failed || t.state == State::Completed) continue;
      const std::string why = where(t) + ": rank " + std::to_string(pos + 1) + " of " + std::to_string(n) +
                              ", keep " + std::to_string(keep);
      if (pos < keep) {
        ++promoted;
        const Trial before = t;
        t.rung = static_cast<int>(r + 1);
        br.rungs[r + 1].members.push_back(id);
        if (id == arriving) {
          t.state = State::Running;  // it still holds its group: no pause needed
          mine = tag(Decision::cont(next_budget, why + ": promoted to " + std::to_string(next_budget) + " steps"),
                     before);
        } else {
          t.state = State::Promoted;
          br.resume.push_back(id);
        }
      } else {
        t.state = State::Stopped;
        Decision d = tag(Decision::make(Action::Stop, why), t);
        if (id == arriving) mine = d;
        else others.push_back({id, d});
      }
    }
    return promoted;
  }

  // No new trials will come: every bracket keeps the configurations it got.
  void close_for_new_trials(OtherDecisions& others) {
    closed_ = true;
    for (size_t b = 0; b < brackets_.size(); ++b) {
      Bracket& br = brackets_[b];
      if (br.done) continue;
      br.target = br.started;
      if (br.started == 0) {
        br.done = true;
        continue;
      }
      std::optional<Decision> none;
      settle(b, -1, none, others);
    }
  }

  HyperbandOptions o_;
  std::vector<Bracket> brackets_;  // execution order over all iterations
  size_t first_open_ = 0;          // brackets before it are done with nothing to resume
  std::map<TrialId, Trial> trials_;
  bool closed_ = false;
};

}  // namespace

std::unique_ptr<Scheduler> make_hyperband_scheduler(const HyperbandOptions& o) {
  return std::make_unique<HyperbandScheduler>(o);
}

}  // namespace mpitune
