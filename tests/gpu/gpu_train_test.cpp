// GPU tests of the GPT trainer (CUDA builds, run under mpirun with 1 and 2 ranks on one GPU):
//  - the dense model on CUDA matches the CPU (fp32);
//  - single-rank NCCL groups (one per rank; several may share a GPU) train the ZeRO-3 model in
//    bf16 and fp16 (dynamic loss scaler), match the dense model, release gathered storage, and
//    continue exactly from a checkpoint;
//  - two ranks on the one GPU: the MPI backend staging CUDA tensors through host memory gives
//    the dense model's losses, and NCCL is refused with a clear error before it is called.
#include <ATen/ATen.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/gpt_trainable.hpp"
#include "mpitune/train/sharded_gpt.hpp"
#include "support/temp_dir.hpp"  // write_file
#include "unit/comm/collective_checks.hpp"
#include "unit/train/train_test_config.hpp"

namespace mpitune {
namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// A scratch folder removed at scope end, with POSIX calls: the pip libtorch exports its own
// std::filesystem, which support/temp_dir's remove_all may bind to (and crash in).
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/mpitune-gpu-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~ScratchDir() {
    nftw(path_.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return std::remove(p); }, 16,
         FTW_DEPTH | FTW_PHYS);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// This rank alone as a communicator (a single-rank group).
class SelfGroup {
 public:
  SelfGroup() { MPI_Comm_split(MPI_COMM_WORLD, world_rank(), 0, &comm_); }
  ~SelfGroup() { MPI_Comm_free(&comm_); }
  MPI_Comm comm() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

class GpuTrain : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
    select_cuda_device(0);
    testing::write_file(dir_.file("toy.txt"), testing::toy_text(40000));
  }
  ExperimentConfig config(const std::string& extra) {
    return testing::tiny_gpt_config(dir_.file("toy.txt"),
                                    "[model]\nn_layer = 2\nd_model = 64\nn_head = 4\n[train]\ndevice = cuda\n" + extra);
  }
  ScratchDir dir_;
};

std::vector<StepResult> train(Trainable& t, int steps) {
  std::vector<StepResult> out;
  for (int i = 0; i < steps; ++i) out.push_back(t.train_step());
  return out;
}

// Device-memory collectives: rank r's input is arange(6) + 10 r, made by a kernel on the compute
// stream just before the call (the backend must order itself after it), read back after.
void check_device_collectives(Collectives& c) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, 0);
  const int g = c.size(), r = c.rank();
  const at::Tensor in = at::arange(6, f32) + 10.0 * r;
  at::Tensor out = at::full({6 * g}, -1.0, f32);
  c.all_gather(in.data_ptr(), out.data_ptr(), 6, DType::F32);
  for (int q = 0; q < g; ++q) EXPECT_TRUE(at::equal(out.narrow(0, 6 * q, 6).cpu(), (at::arange(6, f32) + 10.0 * q).cpu()));
  // Asynchronous all-gather of bf16 and reduce-scatter of fp32, finished by wait().
  const at::Tensor h = (at::arange(4, f32) + r).to(at::kBFloat16);
  at::Tensor hout = at::zeros({4 * g}, h.options());
  auto p = c.all_gather_async(h.data_ptr(), hout.data_ptr(), 4, DType::BF16);
  p->wait();
  EXPECT_TRUE(at::equal(hout.narrow(0, 4 * (g - 1), 4).cpu(), (at::arange(4, f32) + (g - 1)).to(at::kBFloat16).cpu()));
  const at::Tensor big = at::arange(3 * g, f32) + r;  // reduce block r over ranks
  at::Tensor part = at::full({3}, -1.0, f32);
  auto q = c.reduce_scatter_async(big.data_ptr(), part.data_ptr(), 3, DType::F32, ReduceOp::Sum);
  q->wait();
  const at::Tensor expect = (at::arange(3, f32) + 3.0 * r) * g + g * (g - 1) / 2.0;
  EXPECT_TRUE(at::equal(part.cpu(), expect.cpu())) << part.cpu() << expect.cpu();
  at::Tensor m = at::full({2}, static_cast<double>(r), f32);
  c.all_reduce(m.data_ptr(), 2, DType::F32, ReduceOp::Max);
  EXPECT_EQ(m.cpu()[0].item<float>(), g - 1);
  at::Tensor b = at::full({5}, static_cast<double>(r + 1), f32);
  c.broadcast(b.data_ptr(), 5, DType::F32, 0);
  EXPECT_EQ(b.sum().item<float>(), 5.f);
}

TEST_F(GpuTrain, NcclSingleRankGroupMovesDeviceAndHostBuffers) {
  SelfGroup self;
  std::shared_ptr<Collectives> nccl = make_nccl_collectives(self.comm(), 0);
  check_device_collectives(*nccl);
  testing::check_collective_semantics(*nccl);  // host buffers go through MPI
}

TEST_F(GpuTrain, StagedMpiCollectivesMoveDeviceBuffersBetweenTwoRanks) {
  if (world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  std::shared_ptr<Collectives> staged = make_mpi_collectives(MPI_COMM_WORLD, /*device_buffers=*/true);
  check_device_collectives(*staged);
  testing::check_collective_semantics(*staged);
}

TEST_F(GpuTrain, DenseCudaFp32MatchesCpu) {
  auto cpu = make_gpt_trainable(testing::tiny_gpt_config(dir_.file("toy.txt")), nullptr);
  auto gpu = make_gpt_trainable(testing::tiny_gpt_config(dir_.file("toy.txt"), "[train]\ndevice = cuda\n"), nullptr);
  cpu->start(1, HParams{}, 4, 20);
  gpu->start(1, HParams{}, 4, 20);
  // Same weights and batches; only the kernels differ (reduction order, fused attention).
  const auto a = train(*cpu, 4), b = train(*gpu, 4);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i].loss, b[i].loss, 1e-3) << "step " << i;
  EXPECT_NEAR(cpu->evaluate(), gpu->evaluate(), 1e-3);
}

TEST_F(GpuTrain, SingleRankNcclGroupsTrainBf16LikeTheDenseModel) {
  SelfGroup self;
  std::shared_ptr<Collectives> nccl = make_nccl_collectives(self.comm(), 0);
  EXPECT_EQ(nccl->backend(), "nccl");
  auto sharded = make_gpt_trainable(config("precision = bf16\n"), nccl);
  auto dense = make_gpt_trainable(config("precision = bf16\n"), nullptr);
  sharded->start(1, HParams{}, 6, 30);
  dense->start(1, HParams{}, 6, 30);
  const auto a = train(*sharded, 12), b = train(*dense, 12);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i].loss, b[i].loss, 0.02) << "step " << i;
  EXPECT_LT(a.back().loss, a.front().loss - 0.5);
  EXPECT_NEAR(sharded->evaluate(), dense->evaluate(), 0.02);

  auto* m = dynamic_cast<ShardedGpt*>(gpt_model_of(*sharded));
  ASSERT_NE(m, nullptr);
  const auto after = m->gathered_bytes_after_forward();
  for (size_t u = 1; u < after.size(); ++u) EXPECT_EQ(after[u], 0) << "unit " << u;
  EXPECT_EQ(m->memory().gathered_bytes, 0);
  int64_t padded = 0;
  for (const auto& s : m->shards()) padded += s.padded;
  EXPECT_EQ(m->memory().persistent_bytes, 18 * padded);
}

TEST_F(GpuTrain, Fp16TrainsWithTheDynamicLossScaler) {
  SelfGroup self;
  std::shared_ptr<Collectives> nccl = make_nccl_collectives(self.comm(), 0);
  auto f16 = make_gpt_trainable(config("precision = fp16\n"), nccl);
  auto f32 = make_gpt_trainable(config("precision = fp32\n"), nccl);
  f16->start(1, HParams{}, 8, 40);
  f32->start(1, HParams{}, 8, 40);
  const auto a = train(*f16, 20), b = train(*f32, 20);
  int skipped = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(std::isfinite(a[i].loss)) << i;
    EXPECT_LE(a[i].loss_scale, 65536.0);
    EXPECT_GE(a[i].loss_scale, 1.0);
    skipped += a[i].skipped;
  }
  EXPECT_LE(skipped, 8) << "too many overflow skips";
  // fp16 keeps 11 bits of mantissa (better than bf16's 8) and the scaler only skips steps, so
  // once no step was skipped it tracks fp32 closely; allow the skipped steps' lag.
  if (skipped == 0) {
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i].loss, b[i].loss, 0.02) << i;
  }
  EXPECT_LT(a.back().loss, a.front().loss - 0.5);
  std::printf("fp16: %d of %zu steps skipped, final scale %.0f, loss %.4f -> %.4f (fp32 %.4f)\n", skipped, a.size(),
              a.back().loss_scale, a.front().loss, a.back().loss, b.back().loss);
}

TEST_F(GpuTrain, CheckpointOnCudaContinuesExactly) {
  SelfGroup self;
  std::shared_ptr<Collectives> nccl = make_nccl_collectives(self.comm(), 0);
  const std::string ckpt = dir_.file("ckpt");
  auto t = make_gpt_trainable(config("precision = fp16\n"), nccl);
  t->start(1, HParams{}, 3, 20);
  train(*t, 3);
  t->save_checkpoint(ckpt);
  const auto rest = train(*t, 3);
  auto fresh = make_gpt_trainable(config("precision = fp16\n"), nccl);
  fresh->load_checkpoint(ckpt, 1, HParams{});
  const auto again = train(*fresh, 3);
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(again[i].loss, rest[i].loss) << i;
    EXPECT_EQ(again[i].loss_scale, rest[i].loss_scale) << i;
  }
}

TEST_F(GpuTrain, TwoRanksOnOneGpuShareAGroupThroughTheMpiBackend) {
  if (world_size() != 2) GTEST_SKIP() << "needs mpirun -np 2";
  std::shared_ptr<Collectives> staged = make_mpi_collectives(MPI_COMM_WORLD, /*device_buffers=*/true);
  for (const std::string precision : {"fp32", "bf16", "fp16"}) {
    auto sharded = make_gpt_trainable(config("precision = " + precision + "\n"), staged);
    auto dense = make_gpt_trainable(config("precision = " + precision + "\n"), nullptr);
    sharded->start(1, HParams{}, 5, 20);
    dense->start(1, HParams{}, 5, 20);
    const auto a = train(*sharded, 6), b = train(*dense, 6);
    const double tol = precision == "fp32" ? 1e-4 : 0.02;  // fp32: reduction order; 16-bit: roundings
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(a[i].loss, b[i].loss, precision == "fp32" ? tol * b[i].loss : tol) << precision << " step " << i;
    EXPECT_NEAR(sharded->evaluate(), dense->evaluate(), precision == "fp32" ? 1e-3 : 0.02) << precision;
  }
}

TEST_F(GpuTrain, NcclRefusesTwoRanksOfOneGroupOnOneGpu) {
  if (world_size() != 2 || cuda_device_count() != 1) GTEST_SKIP() << "needs two ranks on one GPU";
  try {
    make_nccl_collectives(MPI_COMM_WORLD, 0);
    ADD_FAILURE() << "NCCL accepted two ranks on one GPU";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "train.collectives");
    EXPECT_NE(std::string(e.what()).find("share GPU"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("collectives = mpi"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpitune
