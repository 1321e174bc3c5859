// MpiSession: MPI's lifetime as an object. Initialises MPI, makes MPI_COMM_WORLD return errors
// instead of aborting, and finalises at scope end. abort_job() ends every rank when one rank
// cannot go on.
//
// Threads: MPI_THREAD_MULTIPLE is asked for, because a group leader's heartbeat thread
// (comm/heartbeat.hpp) sends while the main thread trains. A library that gives less (or
// MPITUNE_MPI_THREADS=funneled, for a site whose MPI is slower with it) leaves MPI to the main
// thread only, and the worker then beats at step boundaries; threads_multiple() says which.
#pragma once

#include <string>

namespace mpitune {

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  std::string host() const;

  // Whether MPI is initialised with MPI_THREAD_MULTIPLE (any thread may call MPI). False
  // before MPI_Init and after MPI_Finalize.
  static bool threads_multiple();

  // MPI_Abort on the world: for errors after the job has started, when ranks may be blocked
  // in communication and an orderly exit could hang.
  [[noreturn]] static void abort_job(int code);

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace mpitune
