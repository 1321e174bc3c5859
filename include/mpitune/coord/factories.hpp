// Builds the scheduler and searcher an experiment's config asks for.
#pragma once

#include <memory>

#include "mpitune/core/config.hpp"
#include "mpitune/sched/scheduler.hpp"
#include "mpitune/search/searcher.hpp"

namespace mpitune {

std::unique_ptr<Scheduler> make_scheduler(const ExperimentConfig& cfg);
std::unique_ptr<Searcher> make_searcher(const ExperimentConfig& cfg);
// "asha+random": how the report and the status line name the method.
std::string method_name(const ExperimentConfig& cfg);

}  // namespace mpitune
