// Synchronous Hyperband (Li et al., JMLR 2018): the bracket arithmetic and the scheduler.
//
// Each bracket runs successive halving: n_0 configurations at budget r_0, the best
// floor(n_i / eta) of every rung go on to the next budget, the last rung at max_t. A trial that
// finishes a rung before the rung is complete is paused; when the rung's last result comes in,
// the winners resume (next() hands them out) and the paused losers stop (decisions about other
// trials, returned by the call that judged the rung).
// Brackets run from the most exploratory (s = s_max) down to s = 0, `iterations` times over; a
// bracket waiting for its rung does not hold back the next one, so groups stay busy (HpBandSter).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mpitune/sched/scheduler.hpp"

namespace mpitune {

struct HyperbandOptions {
  int64_t min_t = 1;             // r: the smallest budget (steps)
  int64_t max_t = 81;            // R: the full budget (steps)
  double reduction_factor = 3;   // eta
  int iterations = 1;            // full sweeps over the s_max + 1 brackets
};

struct HyperbandRung {
  int64_t n = 0;       // configurations judged at this rung (nominal: before failures/shortfalls)
  int64_t budget = 0;  // steps each of them has trained when judged
};

struct HyperbandBracket {
  int s = 0;                         // the paper's bracket index: s_max (most trials) .. 0
  std::vector<HyperbandRung> rungs;  // rung i = successive-halving round i; the last at max_t
};

// s_max = floor(log_eta(max_t / min_t)), computed by repeated multiplication with a relative
// tolerance so exact powers (81 / 1 with eta 3) never lose a bracket to rounding.
int hyperband_s_max(int64_t min_t, int64_t max_t, double eta);

// The brackets of one Hyperband iteration, in execution order (s = s_max first). Bracket s
// starts n = ceil((s_max + 1) * eta^s / (s + 1)) configurations at R * eta^-s; round i keeps
// floor(n_i / eta) (at least 1). Budgets are rounded to whole steps, the last is exactly max_t.
// For (1, 81, 3): 81@1 27@3 9@9 3@27 1@81 | 34@3 11@9 3@27 1@81 | 15@9 5@27 1@81 | 8@27 2@81 | 5@81.
// Throws ConfigError when the options are invalid or when rounding would give two rungs of one
// bracket the same budget (a reduction factor too close to 1 for the min_t..max_t range).
std::vector<HyperbandBracket> hyperband_brackets(int64_t min_t, int64_t max_t, double eta);

// The scheduler. Semantics the coordinator relies on:
//  - next(): Resume of a promoted (paused) trial first, oldest bracket first, best-ranked
//    first, `until` = its next rung's budget; else NewTrial for the oldest bracket that still
//    needs configurations (Assignment.bracket = its index in execution order over all
//    iterations, budget = its first rung's budget); else Wait while any trial is still
//    running; else Done. Wait is never returned when no trial is running.
//  - next(false): no new trials will come, so every bracket still short of configurations is
//    shrunk to the trials it got (its rungs are judged over those); this may judge rungs, so
//    next() too may return Stop decisions about paused trials (NextWork::others).
//  - on_trial_start(): the trial joins Assignment.bracket; returns its first rung's budget.
//  - on_segment_end(): step >= max_t -> Complete. Otherwise the result is recorded at the
//    trial's rung; if results are still missing there -> Pause; if it completes the rung, the
//    rung is judged: keep max(1, floor(n / eta)) of its n trials (ties: lower trial id; failed
//    trials count as +inf and are never promoted), the arriving trial gets Continue{next
//    budget} (winner, no pause needed) or Stop (loser); paused losers become Stop decisions in
//    Decisions::others; paused winners are handed out by next() as Resume.
//  - on_trial_failed(): the trial counts as +inf at its rung (a paused one's result is
//    replaced by +inf so its slot goes to the next best); a rung never waits for it. A rung it
//    completes is judged: the Stops of its paused losers are returned.
//  - max_steps() = max_t. Decision.bracket / .rung are filled on every decision.
std::unique_ptr<Scheduler> make_hyperband_scheduler(const HyperbandOptions& o);

}  // namespace mpitune
