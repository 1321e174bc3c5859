// PBT's exploit on the data plane, under mpirun -np 3 (two groups of one rank) and -np 5 (two
// groups of two): group 0's trial state goes rank i to rank i into group 1's trainable through
// StateTransfer. The target's state is bit-identical to the source's, its eval loss equals the
// source's at copy time, and both then train on identically.
#include <gtest/gtest.h>

#include "mpitune/comm/state_transfer.hpp"
#include "mpitune/comm/topology.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/gpt_trainable.hpp"
#include "support/mpi_support.hpp"
#include "unit/train/train_test_config.hpp"

namespace mpitune {
namespace {

// Group size for this world: 2 when two groups of two fit (np 5), else 1 (np 3).
int group_size_for_world() { return testing::world_size() == 5 ? 2 : 1; }

class PbtTransfer : public ::testing::Test {
 protected:
  void SetUp() override {
    set_compute_threads(1);
    testing::write_file(text_.file("toy.txt"), testing::toy_text(30000));
  }
  ExperimentConfig config() { return testing::tiny_gpt_config(text_.file("toy.txt"), "[model]\nn_layer = 2\n"); }
  testing::TempDir text_;
};

// One double from world rank `from` to world rank `to`.
double pass_double(double v, int from, int to) {
  if (testing::world_rank() == from) MPI_Send(&v, 1, MPI_DOUBLE, to, 99, MPI_COMM_WORLD);
  if (testing::world_rank() == to) MPI_Recv(&v, 1, MPI_DOUBLE, from, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return v;
}

TEST_F(PbtTransfer, TheTargetGetsTheSourcesStateBitForBitAndGoesOnIdentically) {
  GroupComms comms(MPI_COMM_WORLD, group_size_for_world());
  const Topology& topo = comms.topology();
  ASSERT_EQ(topo.num_groups, 2) << "registered with mpirun -np 3 and -np 5";
  if (topo.is_coordinator()) {  // rank 0 has no group: it only waits for the others
    MPI_Barrier(MPI_COMM_WORLD);
    return;
  }
  auto group = std::shared_ptr<Collectives>(make_mpi_collectives(comms.group()));
  auto t = make_gpt_trainable(config(), group);
  StateTransfer transfer(comms.transfer(), topo);
  HParams source_hp, target_hp;
  source_hp.set("lr", 0.004);
  target_hp.set("lr", 0.0005);
  const bool source = topo.group == 0;
  // Different trials: different seeds, hyperparameters and weights.
  t->start(source ? 3 : 8, source ? source_hp : target_hp, source ? 111 : 222, 20);
  for (int i = 0; i < (source ? 6 : 2); ++i) t->train_step();

  std::vector<uint8_t> sent;
  double eval_at_copy = 0;
  if (source) {
    sent = t->save_state();
    eval_at_copy = t->evaluate();
    transfer.send(1, 8, StateTransfer::Payload{true, t->step(), sent});
  } else {
    const StateTransfer::Payload p = transfer.recv(0, 8);
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.step, 6);
    EXPECT_GT(p.bytes.size(), 0u);
    // Loaded under the source's id and hyperparameters, the state saves back to the same bytes.
    t->load_state(p.bytes, 3, source_hp);
    EXPECT_EQ(t->step(), 6);
    EXPECT_EQ(t->save_state(), p.bytes) << "group rank " << topo.group_rank;
    eval_at_copy = t->evaluate();
  }
  // Each rank compares with its peer: rank i of the source group -> rank i of the target.
  const int from = topo.world_rank_of(0, topo.group_rank), to = topo.world_rank_of(1, topo.group_rank);
  // The target's eval loss right after the exploit equals the source's at copy time.
  const double source_eval = pass_double(eval_at_copy, from, to);
  if (!source) {
    EXPECT_EQ(source_eval, eval_at_copy);
  }
  // Both go on with the same hyperparameters: the same losses, step for step.
  for (int i = 0; i < 4; ++i) {
    const double loss = t->train_step().loss;
    const double source_loss = pass_double(loss, from, to);
    if (!source) {
      EXPECT_EQ(source_loss, loss) << "step " << 7 + i;
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST_F(PbtTransfer, AGroupThatNoLongerHoldsTheSourceSaysSoAndNothingHangs) {
  GroupComms comms(MPI_COMM_WORLD, group_size_for_world());
  const Topology& topo = comms.topology();
  if (!topo.is_coordinator()) {
    StateTransfer transfer(comms.transfer(), topo);
    if (topo.group == 0) {
      transfer.send(1, 5, StateTransfer::Payload{false, 0, {}});
    } else {
      const StateTransfer::Payload p = transfer.recv(0, 5);
      EXPECT_FALSE(p.ok);
      EXPECT_TRUE(p.bytes.empty());
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
}  // namespace mpitune
