// The byte-level BPE tokenizer assembled from its parts (private to src/tokenize): the loaders
// of tokenizer.json and of vocab.json + merges.txt fill a BpeParts and call make_bpe_tokenizer.
//
// encode(text), as the `tokenizers` library's encode(text, add_special_tokens=False):
//   1. invalid UTF-8 repaired (U+FFFD);
//   2. added tokens with normalized=false found in the raw text;
//   3. each plain segment normalized, then added tokens with normalized=true found in it;
//   4. each remaining plain segment pre-tokenized into pieces, each piece through the BPE model.
// decode(ids): model tokens through the byte-level alphabet back to bytes, <0xXX> byte-fallback
// tokens to their byte, added tokens as their content; unknown ids are skipped. The result is
// the raw bytes (not repaired), so decode(encode(x)) == x for valid UTF-8 x the model covers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mpitune/tokenize/added_tokens.hpp"
#include "mpitune/tokenize/bpe_model.hpp"
#include "mpitune/tokenize/normalizer.hpp"
#include "mpitune/tokenize/pre_tokenizer.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "special_tokens.hpp"

namespace mpitune {

struct BpeParts {
  std::unique_ptr<Normalizer> normalizer;      // null: none
  std::unique_ptr<PreTokenizer> pre_tokenizer;  // null: the segment is one piece
  std::unique_ptr<BpeModel> model;
  std::vector<AddedToken> added_tokens;         // contents as written (normalized ones are
                                                // normalized by make_bpe_tokenizer)
  SpecialTokens special;
  std::string source;               // for description(): "tokenizer.json in /dir"
  std::vector<std::string> files;   // absolute paths, for files()
  std::string fingerprint;          // of the files and the resolved special tokens
};

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeParts parts);

}  // namespace mpitune
