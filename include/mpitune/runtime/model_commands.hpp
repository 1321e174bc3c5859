// `mpitune eval` and `mpitune export`: the commands that work on models rather than on an
// experiment's run. No MPI (export runs a kept trial's group as threads of this process).
#pragma once

#include <string>
#include <vector>

namespace mpitune {

// mpitune eval --model DIR --corpus PATH [...]: the mean next-token loss of a Hugging Face model
// (or a PEFT adapter over one) on fixed, evenly spaced windows of a corpus, as a trial's
// evaluation computes it. One line, or JSON with --json.
int eval_command(const std::vector<std::string>& args);

// mpitune export RESULT.h5 --trial N --out DIR: a kept trial's final weights as a Hugging Face
// model folder (full fine-tuning, scratch) or a PEFT adapter folder (LoRA).
int export_command(const std::vector<std::string>& args);

}  // namespace mpitune
