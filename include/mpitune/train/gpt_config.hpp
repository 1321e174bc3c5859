// Checks of a GPT experiment that need the machine (the model folder, the tokenizer, the corpus,
// the device), done once on rank 0 before the job starts so that a bad setting ends it with one
// line instead of failing trials. This is also where the corpus is tokenized, once per
// experiment, into the token cache every rank then opens.
#pragma once

#include "mpitune/core/config.hpp"

namespace mpitune {

// Throws ConfigError for: a pretrained folder without config.json or weights, of an unsupported
// architecture, or whose tensors do not match config.json; a tokenizer that cannot be loaded or
// gives more ids than the model has; LoRA targets or ranks that do not fit the model (for the
// base config and every choice of a tuned lora.* key); a corpus that is missing, empty, or whose
// splits are shorter than one window of seq_len + 1 tokens (the largest seq_len the [space] may
// try included); train.precision = fp16 on a CPU device; train.device = cuda without CUDA;
// train.collectives = nccl on a CPU device or in a build without NCCL. Tokenizes the corpus
// into the cache when it is not there yet (a progress line on stderr when `progress` and it
// takes a while), and data.retention_corpus likewise (a missing one is a ConfigError naming
// data.retention_corpus). Does nothing for other trainables.
void validate_gpt_config(const ExperimentConfig& c, bool progress = false);
// The same with the answer to "is a CUDA device usable" (cuda_available()) given, so that a caller
// without libtorch can run it: the one above (mpitune_train) asks libtorch.
void validate_gpt_config(const ExperimentConfig& c, bool progress, bool cuda_usable);

// The [data] options that tokenize data.retention_corpus: all of its documents in the validation
// split (the corpus is its own validation corpus), with the corpus' tokenizer, separator and
// JSONL fields; no exclusions, no test split.
DataOptions retention_data_options(const ExperimentConfig& c);

// The longest context any trial may use: model.seq_len, or the top of a [space] seq_len domain.
int64_t largest_seq_len(const ExperimentConfig& c);

}  // namespace mpitune
