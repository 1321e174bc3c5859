// Builds what an experiment's config asks for: the scheduler, the searcher, the coordinator's
// options and the result file's header, so the MPI run and the simulator build them alike.
#pragma once

#include <memory>

#include "mpitune/coord/coordinator_core.hpp"
#include "mpitune/core/config.hpp"
#include "mpitune/sched/scheduler.hpp"
#include "mpitune/search/searcher.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {

std::unique_ptr<Scheduler> make_scheduler(const ExperimentConfig& cfg);
std::unique_ptr<Searcher> make_searcher(const ExperimentConfig& cfg);
// "asha+random": how the report and the status line name the method.
std::string method_name(const ExperimentConfig& cfg);

// K groups of the config's group size (plus rank 0), starting at `start_time`.
CoordinatorOptions coordinator_options(const ExperimentConfig& cfg, int num_groups, double start_time,
                                       const std::string& checkpoint_root);
// The root attributes of the result file, but for what only the run knows (command line,
// config text, device kind, version).
ExperimentInfo experiment_info(const ExperimentConfig& cfg, int num_groups, double start_time);

}  // namespace mpitune
