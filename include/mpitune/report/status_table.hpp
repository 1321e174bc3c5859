// The view of `mpitune status FILE`: a running or finished experiment at a glance, from any
// shell, as Ray Tune prints its trial table.
//
//   == asha_synthetic (asha + random): running, 1m02s elapsed, 3.1 device-min
//      trials 20: 4 running, 10 completed, 5 stopped, 1 failed
//      best eval_loss 0.1234 (trial 7, step 81)  lr=0.001 n_layer=4
//   trial  status     lr     n_layer  step  last eval_loss  best eval_loss  group
//       7  completed  0.001        4    81          0.1234          0.1234      1
//     ...
//   ... 12 more
//
// Trials are sorted by their best metric value, best first in the experiment's mode, running
// trials among the others (a running trial's best so far is as good a sort key as a finished
// one's); trials without any value yet come last, by id. The table is cut to fit a given number
// of lines (a terminal's height) or rows, and the cut says how many rows it left out.
//
// Pure: works on ExperimentData (the store reads it; SWMR while the run writes).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mpitune/store/result_store.hpp"

namespace mpitune {

struct StatusViewOptions {
  size_t max_rows = 0;   // trial rows at most; 0: all
  size_t max_lines = 0;  // lines of the whole view at most (a terminal's height); 0: no limit
  // Said in brackets after the status, e.g. that a "running" file's job is gone.
  std::string status_note;
};

// The trials in the order of the table (see above).
std::vector<const TrialRecord*> trials_by_metric(const ExperimentData& d);

// The view, each line ending in "\n".
std::string format_status_view(const ExperimentData& d, const StatusViewOptions& options = {});

// The lines of the view before the table (the summary): how many trial rows fit in a height.
constexpr size_t kStatusSummaryLines = 3;

}  // namespace mpitune
