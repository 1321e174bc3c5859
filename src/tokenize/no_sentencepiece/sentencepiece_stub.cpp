// Builds without libsentencepiece (or with MPITUNE_SENTENCEPIECE=OFF): a tokenizer.model is a
// clear error instead of a link failure.
#include "../loaders.hpp"
#include "mpitune/core/error.hpp"

namespace mpitune {

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& dir) {
  throw ConfigError("data.tokenizer", "this build has no SentencePiece (needed for " + dir + "/tokenizer.model)",
                    "install libsentencepiece-dev and rebuild (with MPITUNE_SENTENCEPIECE=ON, the default)");
}

}  // namespace mpitune
