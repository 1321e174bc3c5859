// Throughput of the C++ trainer's step (ZeRO-3 sharded model in a single-rank group, and the
// dense model) for the three shapes whose PyTorch 2.11 figures DESIGN.md §7 records, with
// tokens/s, model FLOP utilisation and the ratio to PyTorch eager and torch.compile.
//
//   mpirun -np 1 zero3_bench [--device cuda|cpu] [--shapes 124m,124m-pad,30m,3m] [--steps N]
//                            [--batch-div K] [--precision bf16|fp16|fp32] [--dense 0|1]
//
// A step is what the trainable runs: forward + backward of the global batch as one micro-batch,
// the gradients' reduce-scatter, global-norm clipping and AdamW, and one host sync for the loss.
// Tokens are random (vocabulary of the shape), fixed per step index, so no corpus is needed.
// Model FLOPs per token (PaLM / nanoGPT): 6 N + 12 L T d, N = parameters without the position
// table (the tied head's matmul is counted once through wte; attention scores and values add
// 12 L T d; causal masking is not discounted). MFU against the H100 SXM's dense bf16 peak of
// 989 TFLOP/s and against a measured bf16 matmul peak (8192^3) on this device.
#include <ATen/ATen.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/train/dense_gpt.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/sharded_gpt.hpp"
#include "mpitune/train/update_step.hpp"

#ifdef MPITUNE_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace {

using namespace mpitune;

struct BenchShape {
  std::string key, label;
  ModelSpec shape;
  int64_t batch;
  double torch_eager, torch_compiled;  // tokens/s, DESIGN.md §7 (one H100, bf16)
};

ModelSpec make_shape(int64_t l, int64_t h, int64_t d, int64_t t, int64_t v) {
  ModelSpec s;
  s.n_layer = l;
  s.n_head = s.n_kv_head = h;
  s.d_model = d;
  s.head_dim = d / h;
  s.d_ff = 4 * d;
  s.seq_len = s.max_positions = t;
  s.vocab = v;
  return s;
}

// SmolLM2-135M's shape: Llama layout, 9 heads sharing 3 key/value heads, tied head.
ModelSpec smollm_shape() {
  ModelSpec s = make_shape(30, 9, 576, 1024, 49152);
  s.family = ArchFamily::Llama;
  s.n_kv_head = 3;
  s.d_ff = 1536;
  s.rope_theta = 100000;
  s.qkv_bias = s.o_bias = s.mlp_bias = false;
  return s;
}

std::vector<BenchShape> all_shapes() {
  return {
      {"124m", "GPT-2 124M (L12 d768 h12 V50257)", make_shape(12, 12, 768, 1024, 50257), 16, 312e3, 480e3},
      // nanoGPT's padded vocabulary (50304 classes); not run by default: since the token table
      // is padded to a multiple of 64 rows (model_spec.hpp), the 50257 model runs as fast.
      {"124m-pad", "GPT-2 124M (V50304)", make_shape(12, 12, 768, 1024, 50304), 16, 312e3, 480e3},
      {"30m", "30M (L6 d640 h10 V256)", make_shape(6, 10, 640, 256, 256), 64, 626e3, 1.47e6},
      {"3m", "3.3M bytes (L4 d256 h4 V256)", make_shape(4, 4, 256, 256, 256), 64, 1.87e6, 2.55e6},
      // Not run by default; no PyTorch figure recorded yet (0: no ratio).
      {"smollm", "SmolLM2-135M shape (Llama L30 d576 h9/3 V49152)", smollm_shape(), 16, 0, 0},
  };
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void sync(const at::Device& d) {
#ifdef MPITUNE_CUDA
  if (d.is_cuda()) c10::cuda::device_synchronize();
#endif
  (void)d;
}

double flops_per_token(const ModelSpec& s) {
  // N: parameters without the position table (count_parameters leaves the alignment rows out).
  const double positions = s.family == ArchFamily::Gpt2 ? static_cast<double>(s.max_positions * s.d_model) : 0;
  const double n = static_cast<double>(count_parameters(model_layout(s)).total) - positions;
  return 6 * n + 12.0 * s.n_layer * s.seq_len * s.d_model;
}

// Measured dense bf16 matmul throughput (FLOP/s) of the device.
double matmul_peak(const at::Device& d) {
  const int64_t n = 8192;
  const auto opts = at::TensorOptions().dtype(at::kBFloat16).device(d);
  const at::Tensor a = at::randn({n, n}, opts), b = at::randn({n, n}, opts);
  at::Tensor c = at::mm(a, b);
  sync(d);
  const int reps = 50;
  for (int i = 0; i < 5; ++i) c = at::mm(a, b);  // warm up clocks and cuBLAS
  sync(d);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) c = at::mm(a, b);
  sync(d);
  return 2.0 * n * n * n * reps / seconds_since(t0);
}

struct Measured {
  double tokens_per_s = 0;
  double last_loss = 0;
  double step_ms = 0;
  // Phase split (synchronised after each phase, so it sums to a bit more than step_ms).
  double forward_ms = 0, forward_backward_ms = 0, update_ms = 0;
};

Measured run(GptModel& m, const BenchShape& b, int64_t batch, int steps, const at::Device& d) {
  const int warmup = 3;
  std::vector<std::pair<at::Tensor, at::Tensor>> batches;
  at::manual_seed(1);
  for (int i = 0; i < 4; ++i) {
    const at::Tensor w = at::randint(b.shape.vocab, {batch, b.shape.seq_len + 1},
                                     at::TensorOptions().dtype(at::kLong)).to(d);
    batches.emplace_back(w.narrow(1, 0, b.shape.seq_len), w.narrow(1, 1, b.shape.seq_len));
  }
  AdamWOptions o;
  Measured out;
  std::chrono::steady_clock::time_point t0;
  for (int i = 0; i < warmup + steps; ++i) {
    if (i == warmup) {
      sync(d);
      t0 = std::chrono::steady_clock::now();
    }
    const auto& [x, y] = batches[static_cast<size_t>(i) % batches.size()];
    const at::Tensor loss = m.forward_backward(x, y, 1.0 / static_cast<double>(x.numel()));
    update_parameters(m, nullptr, o, 3e-4, 1.0);
    out.last_loss = loss.item<double>() / static_cast<double>(x.numel());  // the trainable's one host sync per step
  }
  sync(d);
  const double s = seconds_since(t0);
  out.tokens_per_s = static_cast<double>(batch * b.shape.seq_len * steps) / s;
  out.step_ms = 1e3 * s / steps;
  // Where a step's time goes: forward alone, forward + backward, the update.
  const int phase_steps = 3;
  m.forward_loss(batches[0].first, batches[0].second);  // the no-grad path's first call warms up
  sync(d);
  for (int i = 0; i < phase_steps; ++i) {
    const auto& [x, y] = batches[static_cast<size_t>(i) % batches.size()];
    auto t = std::chrono::steady_clock::now();
    m.forward_loss(x, y);
    sync(d);
    out.forward_ms += 1e3 * seconds_since(t) / phase_steps;
    t = std::chrono::steady_clock::now();
    m.forward_backward(x, y, 1.0 / static_cast<double>(x.numel()));
    sync(d);
    out.forward_backward_ms += 1e3 * seconds_since(t) / phase_steps;
    t = std::chrono::steady_clock::now();
    update_parameters(m, nullptr, o, 3e-4, 1.0);
    sync(d);
    out.update_ms += 1e3 * seconds_since(t) / phase_steps;
  }
  return out;
}

std::string human(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0fK", v / 1e3);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  int exit_code = 0;
  try {
    std::string device_name = cuda_available() ? "cuda" : "cpu", shapes = "124m,30m,3m", precision = "bf16";
    int steps = 10, batch_div = 1, dense = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
      const std::string flag = argv[i], value = argv[i + 1];
      if (flag == "--device") device_name = value;
      else if (flag == "--shapes") shapes = value;
      else if (flag == "--steps") steps = std::atoi(value.c_str());
      else if (flag == "--batch-div") batch_div = std::max(1, std::atoi(value.c_str()));
      else if (flag == "--precision") precision = value;
      else if (flag == "--dense") dense = std::atoi(value.c_str());
      else throw std::runtime_error("unknown flag " + flag);
    }
    const at::Device d = device_name == "cuda" ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
    if (d.is_cuda()) select_cuda_device(0);
    else set_compute_threads(1);
    const Precision p = parse_precision(precision);
    // A single-rank group: NCCL on CUDA (what mpitune run builds for G = 1), MPI on the CPU.
    std::shared_ptr<Collectives> group =
        d.is_cuda() ? std::shared_ptr<Collectives>(make_nccl_collectives(MPI_COMM_SELF, 0))
                    : std::shared_ptr<Collectives>(make_mpi_collectives(MPI_COMM_SELF));
    const double peak = d.is_cuda() ? matmul_peak(d) : 0;  // CPU runs are smoke tests: no MFU
    constexpr double kH100Bf16 = 989e12;
    std::vector<std::string> rows, phases;
    for (const BenchShape& b : all_shapes()) {
      if (shapes.find(b.key) == std::string::npos) continue;
      const int64_t batch = std::max<int64_t>(1, b.batch / batch_div);
      const double params = static_cast<double>(count_parameters(model_layout(b.shape)).total);
      for (int variant = 0; variant < (dense ? 2 : 1); ++variant) {
        std::unique_ptr<GptModel> m;
        ModelInit init;
        init.seed = 1;
        if (variant == 0) m = make_sharded_gpt(b.shape, init, d, p, group);
        else m = make_dense_gpt(b.shape, init, d, p, nullptr);
        const Measured r = run(*m, b, batch, steps, d);
        m.reset();
        const double flops = flops_per_token(b.shape) * r.tokens_per_s;
        char row[512];
        std::snprintf(row, sizeof row,
                      "| %s | %.1fM | %s | %lld x %lld | %s | %.1f | %s | %.1f%% | %.1f%% | %s | %.2f | %s | %.2f |",
                      b.label.c_str(), params / 1e6, precision.c_str(), static_cast<long long>(batch),
                      static_cast<long long>(b.shape.seq_len), variant == 0 ? "ZeRO-3 G=1" : "dense", r.step_ms,
                      human(r.tokens_per_s).c_str(), 100 * flops / kH100Bf16, peak > 0 ? 100 * flops / peak : 0.0,
                      human(b.torch_eager).c_str(), b.torch_eager > 0 ? r.tokens_per_s / b.torch_eager : 0.0,
                      human(b.torch_compiled).c_str(), b.torch_compiled > 0 ? r.tokens_per_s / b.torch_compiled : 0.0);
        rows.push_back(row);
        std::snprintf(row, sizeof row, "| %s | %s | %.1f | %.1f | %.1f | %.1f |", b.label.c_str(),
                      variant == 0 ? "ZeRO-3 G=1" : "dense", r.forward_ms, r.forward_backward_ms - r.forward_ms,
                      r.update_ms, r.step_ms);
        phases.push_back(row);
        std::fprintf(stderr, "%s  (last loss %.3f)\n", row, r.last_loss);
      }
    }
    std::printf("\nWhere a step goes (ms; each phase synchronised):\n\n| shape | model | forward | backward "
                "(fwd+bwd - fwd) | update (reduce, clip, AdamW) | whole step |\n|---|---|---|---|---|---|\n");
    for (const auto& r : phases) std::printf("%s\n", r.c_str());
    std::printf("\nC++ trainer throughput on %s (%s collectives; measured bf16 matmul peak %.0f TFLOP/s)\n",
                d.is_cuda() ? "CUDA device 0" : "CPU, 1 thread (smoke test: MFU columns mean nothing)",
                group->backend().c_str(), peak / 1e12);
    std::printf("MFU = (6 N + 12 L T d) x tokens/s over 989 TFLOP/s (H100 SXM bf16 dense) and over the measured peak.\n"
                "PyTorch 2.11 figures: DESIGN.md section 7 (one H100, bf16); ratio = C++ / PyTorch.\n\n");
    std::printf("| shape | params | precision | batch | model | ms/step | tokens/s | MFU (989T) | MFU (measured) "
                "| PyTorch eager | ratio | PyTorch compiled | ratio |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const auto& r : rows) std::printf("%s\n", r.c_str());
    std::fflush(stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zero3_bench: error: %s\n", e.what());
    exit_code = 1;
  }
  MPI_Finalize();
  return exit_code;
}
