// One final evaluation on a group's trainable (FinalEval -> FinalEvalDone), shared by the MPI
// worker and the simulator so both answer alike: the model is a kept checkpoint, the trial the
// group holds (a final retrain), or a fresh untrained start (the base model); then the
// validation, retention and per-document test losses.
#pragma once

#include "mpitune/core/protocol.hpp"
#include "mpitune/core/trainable.hpp"

namespace mpitune {

// Fills done.step, eval_loss, retention_loss and the document vectors (ok and reason are the
// caller's). `held`: the trial the trainable holds now (-1: none). Throws what the trainable
// throws, and InfraError when f.held names a trial it does not hold. On a group every rank calls
// it (the trainable's collectives).
void run_final_eval(Trainable& t, const FinalEvalMsg& f, TrialId held, FinalEvalDoneMsg& done);

}  // namespace mpitune
