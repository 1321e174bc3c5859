// MpiSession: MPI's lifetime as an object. Initialises MPI (funneled threads: only the main
// thread calls MPI), makes MPI_COMM_WORLD return errors instead of aborting, and finalises at
// scope end. abort_job() ends every rank when one rank cannot go on.
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

  // MPI_Abort on the world: for errors after the job has started, when ranks may be blocked
  // in communication and an orderly exit could hang.
  [[noreturn]] static void abort_job(int code);

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace mpitune
