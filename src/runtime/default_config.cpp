// The embedded default experiment: what `mpitune run` does without --config, and what the
// README's first command runs. ASHA + random search over learning rate, weight decay and batch
// size of a small byte-level GPT on the fortunes corpus; sized to finish in a few minutes on a
// two-core machine with 4 single-rank groups (mpirun -np 5).
#include "mpitune/runtime/run.hpp"

namespace mpitune {

const char* default_config_text() {
  return R"INI(# mpitune's embedded default experiment (mpitune run without --config).
[experiment]
name = quickstart
seed = 1
metric = eval_loss
mode = min
max_trials = 300
output = results/{name}.h5
overwrite = true
group_size = 1
trainable = gpt
time_budget_s = 180

[space]
lr = loguniform(1e-4, 3e-2)
weight_decay = uniform(0.0, 0.2)
batch_size = choice(8, 16, 32)

[search]
type = random

[scheduler]
type = asha
max_t = 729
grace_period = 9
reduction_factor = 3
asha_rule = topk

[model]
n_layer = 2
n_head = 4
d_model = 64
seq_len = 64

[data]
corpus = /usr/share/games/fortunes
document_separator = %
val_fraction = 0.1
eval_batches = 8

[train]
precision = fp32
warmup_steps = 10
min_lr_ratio = 0.1
grad_clip = 1.0
log_interval = 10
)INI";
}

}  // namespace mpitune
