// The `pre_tokenizer` step of tokenizer.json: normalized text -> the pieces ("words") the BPE
// model encodes one by one, exactly as the `tokenizers` library splits them.
//
// Supported (all a byte-level BPE file uses):
//  - Split {pattern: {"Regex"|"String"}, behavior, invert}: the pattern's matches (non-matches
//    when inverted) are delimiters, and `behavior` says what becomes of them: Removed (dropped),
//    Isolated (a piece of their own), MergedWithPrevious / MergedWithNext (glued to the piece
//    before / after), Contiguous (runs of delimiters, and runs of the rest, become one piece).
//  - Digits {individual_digits}: numbers (\p{N}) split off, one piece per digit or per run.
//  - ByteLevel {add_prefix_space, use_regex}: a space in front of every piece that lacks one,
//    GPT-2's pattern splits (kGpt2Pattern), then each byte becomes its byte-level character.
//  - Sequence: each in turn, over all pieces.
// Empty pieces never survive a step. Thread-safe: all state is immutable after construction.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mpitune/tokenize/regex.hpp"

namespace mpitune {

// GPT-2's split pattern (the ByteLevel pre-tokenizer's built-in regex).
extern const char* const kGpt2Pattern;

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces every piece by the pieces it splits into, in order.
  virtual void apply(std::vector<std::string>& pieces) const = 0;
};

std::unique_ptr<PreTokenizer> make_split_pre_tokenizer(Regex pattern, SplitBehavior behavior, bool invert);
std::unique_ptr<PreTokenizer> make_digits_pre_tokenizer(bool individual_digits);
std::unique_ptr<PreTokenizer> make_byte_level_pre_tokenizer(bool add_prefix_space, bool use_regex);
std::unique_ptr<PreTokenizer> make_sequence_pre_tokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps);

}  // namespace mpitune
