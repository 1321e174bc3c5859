// Population-based training (Jaderberg et al. 2017; Ray Tune's PopulationBasedTraining):
// exploit (copy a better trial's state) and explore (perturb its hyperparameters) at every
// perturbation interval, asynchronously by default or at population-wide barriers.
//
// How the coordinator carries PBT's decisions out (the contract of make_pbt_scheduler):
//
//  * Population. next() returns NewTrial until `population` trials exist (and again to replace
//    a failed one while new trials may be created); after that no new trials. Every trial runs
//    in segments of perturbation_interval steps: on_trial_start returns min(interval, max_t).
//    A trial's "state step" is the step of its last segment end, or the step it was cloned at.
//
//  * Clone. Decision{Clone, source, hparams, until}: the target takes `hparams` and the state of
//    `source` AS OF THE SOURCE'S LAST SEGMENT END (the state that was scored and ranked; the step
//    of the source's last SegmentDone, which the coordinator knows), so the target's step
//    becomes the SOURCE's step p, and until = min(p + interval, max_t). A source is never a
//    trial without a score for its current state (a fresh clone is not copied from until it has
//    reported again), so "the source's last segment end" is always a state that exists. The
//    copy is made now, and the target trains on its own group from p to `until`.
//
//  * Rebase. Decision{Rebase, source, hparams} (only about other trials, synchronous mode): the
//    target is paused; it takes `hparams` now, and the copy happens when next() hands out its
//    Resume, whose `until` is min(p + interval, max_t) with p the source's state step at that
//    moment. next() hands such deferred clones out before any other Resume, and a source with
//    deferred clones is kept paused until they are all handed out, so the copy always reads the
//    state that was ranked.
//
//  * Turn-taking (population larger than the number of groups). next() returns Resume of the
//    paused trial furthest behind (fewest steps; ties: lowest id; deferred clones first) with
//    until = min(state step + interval, max_t). In asynchronous mode a trial that would Continue
//    returns Pause instead when another trial waits for a group and is not ahead of it (a paused
//    trial with state step <= its own, or a population slot not created yet), so trials take
//    turns interval by interval. A Clone is never turned into a wait in asynchronous mode: the
//    copy is made at once, from exactly the state that was ranked.
//
//  * Asynchronous mode (default). At each interval end the trial's loss is ranked among the
//    live trials that have a score (paused ones included): k = pbt_quantile_count(N); in the
//    bottom k and step >= burn_in -> Clone from a uniformly chosen top-k trial with
//    pbt_explore()d hyperparameters; else Continue{min(step + interval, max_t)}.
//
//  * Synchronous mode. A trial at an interval end pauses while any live trial is behind it (or a
//    population slot is still to be created). When the last one arrives, all live trials (all at
//    the same step) are ranked at once; the bottom k clone top-k trials. The arriving trial gets
//    its own decision (Clone that runs now, Continue, or Pause when it is the source of a
//    deferred clone); the paused bottom-k trials get Rebase among the call's decisions about
//    other trials; every paused trial is then handed out again by next() as Resume. A barrier
//    can also be completed by a failure or by next(false) (nobody left behind): then every
//    decision is about another trial (on_trial_failed's result, NextWork::others). Trials that
//    were not part of a barrier (a replacement created after a failure) catch up without being
//    ranked until they reach the others.
//
//  * step >= max_t -> Complete. Failed trials leave the population (on_trial_failed); a
//    replacement is created only while new trials may be created (next(true)). Decisions are a
//    pure function of the seed and the sequence of events: each exploit draws from
//    derive_seed(derive_seed(seed, "pbt", trial), "exploit", step).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "mpitune/core/rng.hpp"
#include "mpitune/sched/scheduler.hpp"
#include "mpitune/search/space.hpp"

namespace mpitune {

struct PbtOptions {
  int population = 8;                     // trials alive at once
  int64_t perturbation_interval = 10;     // steps between exploit/explore decisions
  int64_t max_t = 100;                    // full budget in steps
  double quantile_fraction = 0.25;        // bottom/top fraction, in [0, 0.5]
  double resample_probability = 0.25;     // explore: resample from the prior instead of perturbing
  std::vector<double> perturbation_factors{0.8, 1.2};  // explore: one of them, uniformly
  int64_t burn_in = 0;                    // no exploit at steps below this
  bool synchronous = false;               // barriers at every interval instead of own clocks
};

// How many trials form the bottom (and the top) quantile of n ranked trials:
// ceil(n * quantile_fraction), capped at floor(n / 2). With 0.25: 8 -> 2, 5 -> 2, 3 -> 1,
// 2 -> 1, 1 -> 0 (a lone trial has nobody to copy).
int64_t pbt_quantile_count(int64_t n, double quantile_fraction);

// Explore: every hyperparameter of the space, in space order. With probability
// resample_probability it is resampled from its prior (Domain::sample); otherwise a numeric
// value is multiplied by a uniformly chosen perturbation factor and clipped to its bounds
// (Domain::clip, ints rounded; a zero stays zero), and a categorical one moves to a neighbouring
// choice (index -1 or +1 with equal probability, clamped to the ends, so at an end it may stay).
// Names in `hp` that the space lacks are kept as they are; space names missing from `hp` are
// sampled.
HParams pbt_explore(const Space& space, const HParams& hp, Rng& rng, const PbtOptions& o);

// Throws ConfigError for invalid options (population < 1, interval < 1, quantile outside
// [0, 0.5], ...).
std::unique_ptr<Scheduler> make_pbt_scheduler(const Space& space, uint64_t seed, const PbtOptions& o);

}  // namespace mpitune
