// The rows of a global batch that one rank of a group fills (see token_corpus.hpp).
// A file of its own so that, while src/train/data.cpp still defines the same function, a
// program linking both libraries pulls in only one definition.
#include "mpitune/core/error.hpp"
#include "mpitune/data/token_corpus.hpp"

namespace mpitune {

RowRange rank_rows(int64_t rows, int rank, int size) {
  MPITUNE_CHECK(size >= 1 && rank >= 0 && rank < size, "rank out of range");
  MPITUNE_CHECK(rows >= 0 && rows % size == 0, "global batch not divisible by the group size");
  return {rank * rows / size, (rank + 1) * rows / size};
}

}  // namespace mpitune
