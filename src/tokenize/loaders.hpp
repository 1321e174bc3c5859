// The loaders of the three tokenizer kinds from a folder (private to src/tokenize);
// load_tokenizer (load_tokenizer.cpp) decides which one applies.
#pragma once

#include <memory>
#include <string>

#include "mpitune/tokenize/tokenizer.hpp"

namespace mpitune {

// dir/tokenizer.json. Returns nullptr and sets `why` (e.g. "a WordPiece model") when the file is
// valid but not a byte-level BPE tokenizer; throws ConfigError when it is malformed or uses a
// normalizer / pre-tokenizer that is not supported.
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& dir, std::string& why);

// dir/vocab.json + dir/merges.txt (GPT-2's original files).
std::unique_ptr<Tokenizer> load_vocab_merges(const std::string& dir);

// dir/tokenizer.model through libsentencepiece; a ConfigError in builds without it.
std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& dir);

// The folder as an absolute, normalized path (for messages, description() and files()).
std::string absolute_dir(const std::string& dir);

}  // namespace mpitune
