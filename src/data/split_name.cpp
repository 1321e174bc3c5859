// Names of the corpus splits (see token_corpus.hpp).
#include "mpitune/data/token_corpus.hpp"

namespace mpitune {

const char* split_name(SplitKind s) {
  switch (s) {
    case SplitKind::Train: return "train";
    case SplitKind::Validation: return "validation";
    case SplitKind::Test: return "test";
  }
  return "?";
}

}  // namespace mpitune
