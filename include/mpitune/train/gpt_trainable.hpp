// The GPT trainable: trains one trial at a time of the GPT of [model] on the corpus of [data]
// with the optimizer of [train], each trial's hyperparameters applied over the base config.
//
// Step: the global batch of train.batch_size windows is drawn identically on every rank; rank r
// of G takes rows [r B/G, (r+1) B/G) and runs them as train.accumulation micro-batches; one AdamW
// update follows (global-norm clipping, warmup + cosine LR over the trial's full budget).
// Evaluation: the mean cross-entropy over the fixed validation windows (data.eval_batches batches
// of the BASE train.batch_size, so every trial sees the same windows even when batch_size is
// tuned), evaluated in chunks no larger than the trial's micro-batch.
// Errors inside a trial (a bad hyperparameter value, torch errors, out of memory) are TrialError.
#pragma once

#include <memory>

#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"
#include "mpitune/train/device.hpp"      // set_compute_threads, for the worker's start-up
#include "mpitune/train/gpt_config.hpp"  // validate_gpt_config, for rank 0's checks

namespace mpitune {

class Collectives;

// group: the trial group's data plane; null for a single rank. The corpus is read here, once.
std::unique_ptr<Trainable> make_gpt_trainable(const ExperimentConfig& base,
                                              std::shared_ptr<Collectives> group);

}  // namespace mpitune
