// FaultInjectingTrainable: wraps any Trainable and makes chosen trials fail at a chosen step,
// by throwing or by returning a NaN loss ([faults] section). Tests and users use it to check
// that an experiment records a failed trial and carries on with the others.
#pragma once

#include <memory>

#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

// Returns `inner` unchanged when no faults are configured, or when faults.fail_rank names
// another rank of the group than `group_rank` (so a failure on one rank only can be tested).
std::unique_ptr<Trainable> with_fault_injection(std::unique_ptr<Trainable> inner, const FaultOptions& faults,
                                                int group_rank = 0);

}  // namespace mpitune
