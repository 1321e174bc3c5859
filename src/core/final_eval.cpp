// One final evaluation on a trainable (see final_eval.hpp).
#include "mpitune/core/final_eval.hpp"

#include <string>

#include "mpitune/core/error.hpp"

namespace mpitune {

void run_final_eval(Trainable& t, const FinalEvalMsg& f, TrialId held, FinalEvalDoneMsg& done) {
  if (!f.checkpoint.empty()) {
    t.release();
    t.load_checkpoint(f.checkpoint, f.trial, f.hparams);
  } else if (!f.held) {
    t.release();
    t.start(f.trial, f.hparams, f.seed, f.max_steps);
  } else if (held != f.trial) {
    throw InfraError("asked to evaluate trial " + std::to_string(f.trial) + " but this group holds trial " +
                     std::to_string(held));
  }
  done.step = t.step();
  done.eval_loss = t.evaluate();
  done.retention_loss = t.evaluate_retention();
  Trainable::DocumentLosses docs = t.evaluate_test_documents();
  done.doc_loss_sums = std::move(docs.loss_sums);
  done.doc_tokens = std::move(docs.tokens);
}

}  // namespace mpitune
