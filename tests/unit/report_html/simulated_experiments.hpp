// Small synthetic experiments for the HTML report's tests: ASHA (with two failing trials),
// Hyperband and BOHB on multi-fidelity Hartmann-6, and PBT on the learning-curve objective,
// each run by the simulator (coord/simulator.hpp) in well under a second.
#pragma once

#include <string>

#include "mpitune/store/result_store.hpp"

namespace mpitune::testing {

// kind: "asha" | "hyperband" | "bohb" | "pbt"; `trials` caps ASHA's and BOHB's trial count.
ExperimentData simulated_experiment(const std::string& kind);

}  // namespace mpitune::testing
