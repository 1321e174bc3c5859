// Checks of a GPT experiment that need the machine (the corpus, the device), done once on rank 0
// before the job starts so that a bad setting ends it with one line instead of failing trials.
#pragma once

#include "mpitune/core/config.hpp"

namespace mpitune {

// Throws ConfigError for: a corpus that is missing, empty or too small for one window of
// seq_len + 1 bytes in either split (the largest seq_len the [space] may try included);
// train.precision = fp16 on a CPU device; train.device = cuda without CUDA; train.collectives =
// nccl on a CPU device or in a build without NCCL; model.vocab_size below 256 (bytes). Cheap: it
// stats the corpus files but reads none. Does nothing for other trainables.
void validate_gpt_config(const ExperimentConfig& c);

}  // namespace mpitune
