#include "mpitune/comm/mpi_session.hpp"

#include <cstdlib>
#include <string>

#include "mpitune/comm/mpi_check.hpp"

namespace mpitune {

void throw_mpi_error(int code, const char* call, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
  throw InfraError(source_place(file, line) + ": " + call + " failed: " + std::string(text, len));
}

MpiSession::MpiSession(int* argc, char*** argv) {
  const char* asked = std::getenv("MPITUNE_MPI_THREADS");
  const bool funneled = asked && std::string(asked) == "funneled";
  int provided = 0;
  MPI_CHECK(MPI_Init_thread(argc, argv, funneled ? MPI_THREAD_FUNNELED : MPI_THREAD_MULTIPLE, &provided));
  MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

std::string MpiSession::host() const {
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_CHECK(MPI_Get_processor_name(name, &len));
  return std::string(name, len);
}

bool MpiSession::threads_multiple() {
  int initialized = 0, finalized = 0;
  if (MPI_Initialized(&initialized) != MPI_SUCCESS || !initialized) return false;
  if (MPI_Finalized(&finalized) != MPI_SUCCESS || finalized) return false;
  int provided = 0;
  MPI_CHECK(MPI_Query_thread(&provided));
  return provided == MPI_THREAD_MULTIPLE;
}

void MpiSession::abort_job(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort should not return; make sure.
}

}  // namespace mpitune
