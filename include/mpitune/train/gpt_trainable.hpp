// The GPT trainable: trains one trial at a time of the language model of [model] (a scratch
// GPT-2/Llama of the given shape, or a pretrained Hugging Face folder, fully or with LoRA) on the
// token corpus of [data] with the optimizer of [train], each trial's hyperparameters applied
// over the base config.
//
// Model: with a group (G >= 1 ranks) the ZeRO-3 sharded model (sharded_gpt.hpp), whatever G; with
// no group the dense model (dense_gpt.hpp), the reference the sharded one is tested against.
// Frozen base weights (LoRA on a pretrained model) are loaded once per group and shared by its
// trials (FrozenCache).
// Data: the corpus is tokenized once per experiment (token_corpus.hpp; rank 0 does it before the
// job, every rank then opens the cached token file).
// Step: the global batch of train.batch_size windows of seq_len + 1 tokens is drawn identically
// on every rank; rank r of G takes rows [r B/G, (r+1) B/G) and runs them as train.accumulation
// micro-batches; the loss is the mean over every counted target of the global batch (prompt
// tokens of prompt/completion data do not count), so the gradient does not depend on G or on
// the accumulation. One AdamW update follows (global-norm clipping, warmup + cosine LR over the
// trial's full budget). fp16 (CUDA only) runs with the dynamic loss scaler (loss_scaler.hpp)
// and skips overflowing steps.
// Evaluation: the mean cross-entropy over the fixed validation windows (data.eval_batches
// batches of the BASE train.batch_size, so every trial sees the same windows even when
// batch_size is tuned), evaluated in chunks no larger than the trial's micro-batch.
// State (save_state / save_checkpoint, checkpoint.hpp): each rank's bytes are its model state
// (the trainable buffers only: with LoRA, the adapters) plus the trial's step, seed, budget,
// data RNG and loss scaler, so a loaded trial continues exactly as if never stopped; the same
// bytes go to rank-<r>.bin of a checkpoint or, for PBT, to the same rank of another group of the
// same size. update_hparams changes everything but the model's shapes and precision from the
// next step on.
// Errors inside a trial (a bad hyperparameter value, torch errors, out of memory) are TrialError.
#pragma once

#include <cstdint>
#include <memory>

#include "mpitune/core/config.hpp"
#include "mpitune/core/trainable.hpp"
#include "mpitune/train/device.hpp"      // set_compute_threads, for the worker's start-up
#include "mpitune/train/gpt_config.hpp"  // validate_gpt_config, for rank 0's checks

namespace mpitune {

class Collectives;
class GptModel;

// group: the trial group's data plane; null for a single rank without sharding. cuda_device:
// the CUDA device index used when train.device resolves to cuda. The tokenizer, the model
// folder's header and the token corpus are opened here, once.
std::unique_ptr<Trainable> make_gpt_trainable(const ExperimentConfig& base,
                                              std::shared_ptr<Collectives> group, int cuda_device = 0);

// For tests and benchmarks: the model of a GPT trainable's running trial (null when none).
GptModel* gpt_model_of(Trainable& t);

}  // namespace mpitune
