// Times the GPT trainable on this machine: ms per training step, tokens/s and the cost of one
// evaluate(), for the config's model (defaults: n_layer 2, n_head 4, d_model 64, seq_len 64,
// batch 16, 8 eval batches on the fortunes corpus).
//
//   train_step_bench [--threads N] [--precision fp32|bf16] [--steps S] [--set section.key=value]...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/ini.hpp"
#include "mpitune/train/gpt_trainable.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mpitune;
  int threads = 1, steps = 50;
  IniFile ini = IniFile::parse("[space]\nlr = loguniform(1e-4, 1e-2)\n[train]\ndevice = cpu\n");
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--threads") threads = std::atoi(value.c_str());
    else if (flag == "--steps") steps = std::atoi(value.c_str());
    else if (flag == "--precision") ini.set("train", "precision", value);
    else if (flag == "--set") ini.apply_override(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    const ExperimentConfig cfg = parse_config(ini);
    validate_gpt_config(cfg);
    set_compute_threads(threads);
    auto t = make_gpt_trainable(cfg, nullptr);
    t->start(0, HParams{}, 1, steps + 5);
    for (int i = 0; i < 5; ++i) t->train_step();  // warm up allocator and thread pools
    t->evaluate();  // and the no-grad kernels (CUDA loads some lazily on first use)
    // Three rounds; the machine may be shared, so the fastest round is the cost of the code.
    std::vector<double> step_ms, eval_ms;
    int64_t tokens_per_step = 0;
    double loss = 0, eval_loss = 0;
    for (int round = 0; round < 3; ++round) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < steps; ++i) {
        const StepResult r = t->train_step();
        tokens_per_step = r.tokens;
        loss = r.loss;
      }
      step_ms.push_back(1e3 * seconds_since(t0) / steps);
      t0 = std::chrono::steady_clock::now();
      eval_loss = t->evaluate();
      eval_ms.push_back(1e3 * seconds_since(t0));
    }
    std::sort(step_ms.begin(), step_ms.end());
    std::sort(eval_ms.begin(), eval_ms.end());
    std::printf("model L=%d H=%d D=%d T=%d batch=%d precision=%s threads=%d device=%s\n", cfg.model.n_layer,
                cfg.model.n_head, cfg.model.d_model, cfg.model.seq_len, cfg.train.batch_size,
                cfg.train.precision.c_str(), threads, cfg.train.device.c_str());
    std::printf("train: %.2f ms/step (median of 3 rounds %.2f), %.0f tokens/s (%d steps a round, last loss %.3f)\n",
                step_ms[0], step_ms[1], tokens_per_step / (step_ms[0] / 1e3), steps, loss);
    std::printf("evaluate: %.1f ms (median %.1f) for %d batches (loss %.3f)\n", eval_ms[0], eval_ms[1],
                cfg.data.eval_batches, eval_loss);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
