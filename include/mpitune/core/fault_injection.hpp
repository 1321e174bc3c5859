// FaultInjectingTrainable: wraps any Trainable and makes chosen trials fail at a chosen step
// ([faults] section), so tests and users can check what an experiment does when things go wrong.
//
// At step faults.fail_at_step of every trial in faults.fail_trials (right after that step was
// computed, before it is reported), by faults.fail_mode:
//  - throw: a TrialError (the trial is recorded as failed; the others go on);
//  - nan:   the step returns a NaN loss (the worker fails the trial, on every rank);
//  - kill:  raise(SIGKILL) on this rank: a dead rank (an out-of-memory kill, a lost node). Under
//           mpirun the launcher then ends the whole job: the "kill -9 at step k of trial t" that
//           resume is tested against;
//  - stop:  raise(SIGSTOP) on this rank: a hung rank (every thread of the process stops, the
//           heartbeat too), which the coordinator must notice within experiment.heartbeat_timeout_s.
// The fault fires each time the trial reaches that step, so a job resumed from a checkpoint
// taken before it dies again: a resume that must get past it turns the fault off
// (--set faults.fail_trials=).
#pragma once

#include <memory>

#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

// Returns `inner` unchanged when no faults are configured, or when faults.fail_rank names
// another rank of the group than `group_rank` (so a failure on one rank only can be tested).
// faults.startup_rank: called by every rank as it starts; the rank named fails by fail_mode
// (kill, stop; otherwise an InfraError), the others return at once.
void inject_startup_fault(const FaultOptions& faults, int world_rank);

std::unique_ptr<Trainable> with_fault_injection(std::unique_ptr<Trainable> inner, const FaultOptions& faults,
                                                int group_rank = 0);

}  // namespace mpitune
