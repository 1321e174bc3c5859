// Trainable: what a trial group trains. One interface for the GPT trainer and the synthetic
// objectives, so the worker loop, the failure handling and the protocol are the same for both.
//
// Every rank of a group holds its own Trainable and calls the same methods in the same order
// (the group leader broadcasts the orders); collective work happens inside these calls.
// Results (losses) are identical on every rank of the group.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/hparams.hpp"

namespace mpitune {

struct StepResult {
  double loss = 0;        // mean training loss of the step over the whole global batch
  double lr = 0;          // learning rate used for the step
  int64_t tokens = 0;     // tokens processed by the group in this step (0 for synthetic)
  double loss_scale = 1;  // fp16 dynamic loss scale after the step (1 when not used)
  bool skipped = false;   // the optimizer skipped the step (fp16 overflow)
};

class Trainable {
 public:
  virtual ~Trainable() = default;

  // Begins a new trial from scratch. `seed` seeds its initialisation and data order;
  // `max_steps` is the length of the full budget (the LR schedule's horizon).
  virtual void start(int64_t trial, const HParams& hp, uint64_t seed, int64_t max_steps) = 0;
  // Optimizer steps completed so far.
  virtual int64_t step() const = 0;
  // One optimizer step. Throws TrialError on failure; a non-finite loss is returned as is
  // (the worker turns it into a failure so every rank agrees).
  virtual StepResult train_step() = 0;
  // The metric on the fixed evaluation set (for GPT: mean eval loss over the validation batches).
  virtual double evaluate() = 0;
  // The mean loss on the retention set (data.retention_corpus: text the base model knew, to see
  // forgetting); NaN when there is none (the default).
  virtual double evaluate_retention();
  // The test split, document by document (the final evaluation; never called during the
  // search): per document its summed loss and counted tokens. The default throws InfraError.
  struct DocumentLosses {
    std::vector<double> loss_sums;
    std::vector<int64_t> tokens;
  };
  virtual DocumentLosses evaluate_test_documents();
  // Frees the trial's state (the group goes idle or moves to another trial).
  virtual void release() = 0;

  // Sharded checkpoint of the whole training state into `dir` (each rank writes its part).
  // load_checkpoint may load another trial's checkpoint under this trial's id and
  // hyperparameters (a PBT clone of a paused trial). Not every trainable supports them; the
  // defaults throw InfraError.
  virtual void save_checkpoint(const std::string& dir);
  virtual void load_checkpoint(const std::string& dir, int64_t trial, const HParams& hp);

  // PBT's exploit without files: this rank's share of the whole training state (everything
  // needed to continue exactly), and loading such a share, sent by the same rank of another
  // group of the same size, under this trial's id and hyperparameters.
  virtual std::vector<uint8_t> save_state();
  virtual void load_state(const std::vector<uint8_t>& bytes, int64_t trial, const HParams& hp);
  // PBT's explore: new hyperparameters for the held trial, from the next step on (those that
  // change the model's shape cannot change). Throws TrialError for a value it cannot take.
  virtual void update_hparams(const HParams& hp);
};

}  // namespace mpitune
