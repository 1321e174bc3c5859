// The MPI backend of Collectives under mpirun: the semantics every backend shares
// (tests/unit/comm/collective_checks.hpp) on the whole world and on sub-groups, and the
// isolation of its duplicated communicator from other traffic on the group's communicator.
#include <gtest/gtest.h>

#include "mpitune/comm/mpi_collectives.hpp"
#include "unit/comm/collective_checks.hpp"
#include "support/mpi_support.hpp"

namespace mpitune {
namespace {

TEST(MpiCollectives, HaveTheSemanticsOfEveryBackend) {
  auto world = make_mpi_collectives(MPI_COMM_WORLD);
  EXPECT_EQ(world->backend(), "mpi");
  EXPECT_EQ(world->size(), testing::world_size());
  testing::check_collective_semantics(*world);
  for (int g : {1, 2}) {
    if (testing::world_size() % g) continue;
    testing::WorldGroups groups(g);
    EXPECT_EQ(groups.group()->size(), g);
    testing::check_collective_semantics(*groups.group());
  }
}

TEST(MpiCollectives, TrafficOnTheParentCommunicatorDoesNotMatch) {
  // A message pending on MPI_COMM_WORLD with the backend's tag must not be received by the
  // backend's recv: it runs on a duplicate.
  auto c = make_mpi_collectives(MPI_COMM_WORLD);
  ASSERT_GE(c->size(), 2) << "registered with mpirun -np 3";
  const int r = c->rank();
  int32_t stray = -1, wanted = 0;
  MPI_Request req = MPI_REQUEST_NULL;
  if (r == 0) MPI_Isend(&stray, 1, MPI_INT32_T, 1, 17, MPI_COMM_WORLD, &req);
  if (r == 0) {
    const int32_t v = 42;
    c->send(&v, 1, DType::I32, 1);
  } else if (r == 1) {
    c->recv(&wanted, 1, DType::I32, 0);
    EXPECT_EQ(wanted, 42);
    int32_t got = 0;
    MPI_Recv(&got, 1, MPI_INT32_T, 0, 17, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    EXPECT_EQ(got, -1);
  }
  if (r == 0) MPI_Wait(&req, MPI_STATUS_IGNORE);
  c->barrier();
}

}  // namespace
}  // namespace mpitune
