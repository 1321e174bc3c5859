// Added tokens (tokenizer.json's "added_tokens": "<|endoftext|>", "<|im_start|>", ...): found in
// the text before anything else runs, as the `tokenizers` library's AddedVocabulary does.
//
// Matching is leftmost-longest over all contents at once (the library's Aho-Corasick with
// MatchKind::LeftmostLongest), non-overlapping, left to right. Then per token:
//  - single_word: a match with a word character (\w) right before or after it is not a match;
//  - lstrip / rstrip: the whitespace (\s) right before / after it belongs to the token;
// Tokens with normalized=false are matched in the raw text; tokens with normalized=true in the
// normalized text of the plain segments, with their content normalized too (two matchers, the
// caller runs both). Immutable after construction: split() is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mpitune {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

class AddedTokenMatcher {
 public:
  struct Segment {
    size_t begin, end;  // byte offsets into the text
    int32_t id;         // the added token's id, or -1 for plain text
  };

  AddedTokenMatcher() = default;
  // `tokens` with the content to look for (empty contents are ignored).
  explicit AddedTokenMatcher(const std::vector<AddedToken>& tokens);

  bool empty() const { return tokens_.empty(); }
  // Cuts `text` into plain segments and added tokens, covering it in order.
  void split(std::string_view text, std::vector<Segment>& out) const;

 private:
  // Longest token starting at text[pos]: its index in tokens_ and end, or -1.
  int longest_at(std::string_view text, size_t pos, size_t& end) const;

  std::vector<AddedToken> tokens_;
  // Byte trie of the contents: edge (node << 8 | byte) -> child node; terminal token per node.
  std::unordered_map<uint64_t, int32_t> edges_;
  std::vector<int32_t> terminal_;  // node -> index in tokens_, or -1
  bool first_byte_[256] = {};
};

}  // namespace mpitune
