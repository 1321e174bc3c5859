// The loss of a model on a split, document by document: what the final evaluation on the test
// split needs for a bootstrap interval over documents (core/bootstrap.hpp) and for paired
// comparisons between experiments evaluated on the same documents.
//
// Each document is scored on its own: every counted token of it but its first is predicted
// from the document's preceding tokens only (at most seq_len of them: a longer document is cut
// into consecutive windows of seq_len targets, each window's context starting at its first
// token), never from the document before it. Windows are padded to seq_len (padding targets do
// not count). Rows are split over the ranks of the group (padded with empty rows so every rank
// runs as many forward passes: the ZeRO-3 model's forward is collective), and the per-document
// sums are summed over the group, so every rank returns the same numbers.
#pragma once

#include <cstdint>
#include <vector>

#include "mpitune/core/trainable.hpp"
#include "mpitune/data/token_corpus.hpp"

namespace mpitune {

class Collectives;
class GptModel;

// `chunk`: rows per forward pass (at least 1). `group` may be null (one rank).
Trainable::DocumentLosses document_losses(GptModel& model, const TokenSplit& split, int64_t seq_len, int64_t chunk,
                                          Collectives* group);

}  // namespace mpitune
