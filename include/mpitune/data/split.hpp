// Which documents of data.corpus go to train, validation and test (see token_corpus.hpp).
//
// The split is a seeded permutation of the N documents: Rng(derive_seed(split_seed, "split"))
// shuffles the indices 0..N-1 (Fisher-Yates, drawing from the last position down); the first
// round(val_fraction x N) shuffled indices are validation, the next round(test_fraction x N)
// test, the rest train. Each split is then sorted back into corpus order. Rounding is to the
// nearest integer, halves away from zero (std::llround), so 0.1 x 15 = 1.5 gives 2.
// The permutation depends on N and the seed only, never on the text, so a fixed corpus gives the
// same split on every platform. No document is in two splits.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace mpitune {

// Documents per split, by the fractions alone (what split_documents will produce).
struct SplitCounts {
  int64_t train = 0;
  int64_t validation = 0;
  int64_t test = 0;
};
SplitCounts split_counts(int64_t documents, double val_fraction, double test_fraction);

// Indices into the corpus's documents, per SplitKind (train, validation, test), each ascending.
// When val_fraction + test_fraction take every document, train is empty: the caller reports it.
std::array<std::vector<int64_t>, 3> split_documents(int64_t documents, double val_fraction,
                                                    double test_fraction, uint64_t split_seed);

}  // namespace mpitune
