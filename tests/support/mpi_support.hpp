// Shared pieces of the tests run under mpirun: world rank/size, splitting the world into groups of
// G ranks with their MPI Collectives, and a temp folder every rank knows.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/comm/mpi_collectives.hpp"
#include "support/temp_dir.hpp"

namespace mpitune::testing {

inline int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
inline int world_size() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// The world cut into consecutive groups of g ranks (world size a multiple of g); this rank's
// group as MPI Collectives. The communicator is freed with the object.
class WorldGroups {
 public:
  explicit WorldGroups(int g) {
    MPI_Comm_split(MPI_COMM_WORLD, world_rank() / g, world_rank(), &comm_);
    collectives_ = make_mpi_collectives(comm_);
  }
  ~WorldGroups() {
    collectives_.reset();
    MPI_Comm_free(&comm_);
  }
  std::shared_ptr<Collectives> group() const { return collectives_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  std::shared_ptr<Collectives> collectives_;
};

// A temp folder made on rank 0 whose path every rank knows (one node: the folder is shared).
class SharedTempDir {
 public:
  SharedTempDir() {
    std::string path;
    if (world_rank() == 0) {
      dir_ = std::make_unique<TempDir>("mpitune-mpi");
      path = dir_->path();
    }
    int n = static_cast<int>(path.size());
    MPI_Bcast(&n, 1, MPI_INT, 0, MPI_COMM_WORLD);
    path.resize(static_cast<size_t>(n));
    MPI_Bcast(path.data(), n, MPI_CHAR, 0, MPI_COMM_WORLD);
    path_ = path;
  }
  ~SharedTempDir() { MPI_Barrier(MPI_COMM_WORLD); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::unique_ptr<TempDir> dir_;
  std::string path_;
};

}  // namespace mpitune::testing
