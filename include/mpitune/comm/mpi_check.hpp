// MPI_CHECK: every MPI call's return code is checked; a failure throws InfraError naming the
// call, the place and MPI's own error string. Communicators use MPI_ERRORS_RETURN (set by
// MpiSession) so errors come back here instead of aborting without a word.
#pragma once

#include <mpi.h>

#include <string>

#include "mpitune/core/error.hpp"

namespace mpitune {
[[noreturn]] void throw_mpi_error(int code, const char* call, const char* file, int line);
}

#define MPI_CHECK(call)                                                   \
  do {                                                                    \
    const int mpitune_mpi_rc_ = (call);                                   \
    if (mpitune_mpi_rc_ != MPI_SUCCESS)                                   \
      ::mpitune::throw_mpi_error(mpitune_mpi_rc_, #call, __FILE__, __LINE__); \
  } while (0)
