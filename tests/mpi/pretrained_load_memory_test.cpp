// Hugging Face checkpoints in ZeRO-3 groups of MPI ranks (mpirun -np 4). The tiny fixtures give
// the reference logits with G = 2 and 4 over MPI collectives (not only in-process fakes).
// Loading a ~100M-parameter Hugging Face checkpoint (llama_100m, bf16, written by
// hf_fixtures.py make-large) into ZeRO-3 groups of G = 1, 2 and 4 under mpirun -np 4: the peak
// resident set of every rank while its group loads, full fine-tuning (bf16 compute: fp32
// master, m, v, gradient and the bf16 copy) and LoRA (the frozen base in bf16 only). Each rank
// reads only the byte ranges of its own slices, so at G = 4 the peak must stay below half the
// G = 1 figure; persistent bytes per rank must be 18 P / G (full) and 2 P / G + the adapters'
// 18 per parameter (LoRA). Rank 0 prints the table.
#include <gtest/gtest.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "mpitune/hf/hf_config.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/model_layout.hpp"
#include "mpitune/train/sharded_gpt.hpp"
#include "models/hf_fixture_support.hpp"
#include "support/mpi_support.hpp"

namespace mpitune {
namespace {

// A field of /proc/self/status in bytes ("VmHWM", "VmRSS").
int64_t status_bytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size())) * 1024;
  return -1;
}

// Resets the peak resident set (VmHWM) to the current one (Linux >= 4.0).
void reset_peak() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
}

struct Load {
  int64_t peak = 0, before = 0, persistent = 0;
  double seconds = 0;
};

Load load(const ModelSpec& spec, const SafetensorsFolder& weights, const std::shared_ptr<Collectives>& group) {
  MPI_Barrier(MPI_COMM_WORLD);
  reset_peak();
  Load l;
  l.before = status_bytes("VmRSS");
  const auto t0 = std::chrono::steady_clock::now();
  {
    ModelInit init;
    init.weights = &weights;
    auto m = make_sharded_gpt(spec, init, at::kCPU, Precision::BF16, group);
    l.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    l.persistent = m->memory().persistent_bytes;
    l.peak = status_bytes("VmHWM");
  }
  malloc_trim(0);  // give the freed model back, so the next load starts from the same baseline
  MPI_Barrier(MPI_COMM_WORLD);
  return l;
}

int64_t max_over_ranks(int64_t v) {
  MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
  return v;
}

TEST(PretrainedLoad, MpiGroupsOf2And4GiveTheReferenceLogits) {
  ASSERT_EQ(testing::world_size(), 4) << "registered with mpirun -np 4";
  set_compute_threads(1);
  for (const char* name : {"gpt2_prefixed_fp32", "llama_gqa_untied_fp32", "llama_tied_bf16_sharded", "qwen2_bias_fp32"}) {
    const std::string dir = testing::fixture(name);
    const testing::Reference ref = testing::read_reference(dir);
    const ModelSpec spec = testing::spec_of(dir, ref.tokens.size(1));
    const SafetensorsFolder weights = SafetensorsFolder::open(dir);
    for (int g : {2, 4}) {
      testing::WorldGroups groups(g);
      ModelInit init;
      init.weights = &weights;
      auto m = make_sharded_gpt(spec, init, at::kCPU, Precision::F32, groups.group());
      EXPECT_LT(testing::max_abs(m->forward_logits(ref.tokens), ref.logits), 1e-4) << name << " G = " << g;
      EXPECT_NEAR(testing::next_token_loss(*m, ref.tokens), ref.loss, 1e-4) << name << " G = " << g;
    }
  }
}

TEST(PretrainedLoad, PeakMemoryPerRankFallsWithTheGroupSize) {
  ASSERT_EQ(testing::world_size(), 4) << "registered with mpirun -np 4";
  const char* dir_env = std::getenv("MPITUNE_HF_FIXTURES_DIR");
  ASSERT_TRUE(dir_env && *dir_env) << "MPITUNE_HF_FIXTURES_DIR is not set (ctest sets it)";
  const std::string dir = std::string(dir_env) + "/llama_100m";
  set_compute_threads(1);
  const HfModelConfig hf = HfModelConfig::load(dir);
  ExperimentConfig c;
  c.model.init = "pretrained";
  c.model.path = dir;
  c.model.seq_len = 64;
  const ModelSpec full = ModelSpec::from_config(c, &hf, 0);
  c.lora.rank = 16;
  c.lora.targets = "attention";
  const ModelSpec lora = ModelSpec::from_config(c, &hf, 0);
  const SafetensorsFolder weights = SafetensorsFolder::open(dir);
  const ParameterCounts p = count_parameters(model_layout(full));
  const ParameterCounts pl = count_parameters(model_layout(lora));
  ASSERT_GT(p.total, 90'000'000);

  if (testing::world_rank() == 0)
    std::printf("\nLoading %s (%.1fM parameters, bf16 file) into ZeRO-3 groups; peak resident set per rank while "
                "loading (max over ranks), the process's own %.0f MB before included:\n"
                "| G | model | peak RSS (MB) | grew by (MB) | persistent per rank (MB) | expected (MB) | load (s) |\n"
                "|---|---|---:|---:|---:|---:|---:|\n",
                dir.c_str(), p.total / 1e6, status_bytes("VmRSS") / 1e6);
  int64_t peak_full[5] = {0}, peak_lora[5] = {0};
  for (int g : {1, 2, 4}) {
    testing::WorldGroups groups(g);
    for (const ModelSpec* spec : {&full, &lora}) {
      const Load l = load(*spec, weights, groups.group());
      const bool is_lora = spec == &lora;
      const int64_t peak = max_over_ranks(l.peak), grew = max_over_ranks(l.peak - l.before);
      const int64_t persistent = max_over_ranks(l.persistent);
      // 18 bytes per trainable parameter (fp32 master, m, v, gradient, bf16 copy), 2 per frozen.
      const double expected = is_lora ? (2.0 * (pl.total - pl.trainable) + 18.0 * pl.trainable) / g : 18.0 * p.total / g;
      EXPECT_LT(std::abs(persistent - expected), 0.02 * expected + 64.0 * 1024 * g) << "G = " << g;
      (is_lora ? peak_lora : peak_full)[g] = peak;
      if (testing::world_rank() == 0)
        std::printf("| %d | %s | %.0f | %.0f | %.0f | %.0f | %.2f |\n", g,
                    is_lora ? "LoRA r16 attention" : "full fine-tuning", peak / 1e6, grew / 1e6, persistent / 1e6,
                    expected / 1e6, l.seconds);
    }
  }
  std::fflush(stdout);
  EXPECT_LT(peak_full[4], peak_full[1] / 2) << "G = 4 must need less than half the memory of G = 1";
  EXPECT_LT(peak_full[2], peak_full[1]);
  EXPECT_LT(peak_lora[4], peak_full[4]);
}

}  // namespace
}  // namespace mpitune
