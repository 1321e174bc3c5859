// Small hand-made tokenizer folders for the tokenizer unit tests.
//
// MiniBpe writes a byte-level tokenizer.json whose vocabulary is the 256 byte-level characters
// with id = byte value ('a' is 97, a space 'Ġ' is 32, '\n' 'Ċ' is 10), then the tokens listed in
// `tokens` with ids 256, 257, ... in order. So expected ids can be worked out by hand.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"

namespace mpitune::testing {

using nlohmann::json;

inline json byte_level_pre_tokenizer(bool add_prefix_space = false, bool use_regex = true) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

// The byte-level character of one byte, as UTF-8 (GPT-2's table: printable bytes are themselves,
// the others move to U+0100 + their rank among the non-printable bytes).
inline std::string byte_char(unsigned char b) {
  auto printable = [](int x) { return (x >= 33 && x <= 126) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE; };
  unsigned cp = b;
  if (!printable(b)) {
    unsigned rank = 0;
    for (int x = 0; x < b; ++x) rank += !printable(x);
    cp = 256 + rank;
  }
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

struct MiniBpe {
  std::vector<std::string> tokens;                             // ids 256, 257, ...
  std::vector<std::pair<std::string, std::string>> merges;     // in rank order
  json normalizer = nullptr;
  json pre_tokenizer = byte_level_pre_tokenizer();
  json post_processor = nullptr;
  json added_tokens = json::array();
  json model_options = json::object();  // e.g. {"ignore_merges": true}
  bool merges_as_pairs = false;         // [["a","b"]] instead of ["a b"]

  int32_t id(const std::string& token) const {
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] == token) return static_cast<int32_t>(256 + i);
    return -1;
  }

  json to_json() const {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[byte_char(static_cast<unsigned char>(b))] = b;
    for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = 256 + static_cast<int>(i);
    json m = json::array();
    for (const auto& [a, b] : merges) m.push_back(merges_as_pairs ? json::array({a, b}) : json(a + " " + b));
    json model = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false},
                  {"vocab", vocab}, {"merges", m}};
    for (const auto& [k, v] : model_options.items()) model[k] = v;
    return {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added_tokens},
            {"normalizer", normalizer}, {"pre_tokenizer", pre_tokenizer}, {"post_processor", post_processor},
            {"decoder", {{"type", "ByteLevel"}}}, {"model", model}};
  }

  void write(const TempDir& dir) const { write_file(dir.file("tokenizer.json"), to_json().dump()); }
};

inline json added_token(int id, const std::string& content, bool special = true) {
  return {{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
          {"normalized", !special}, {"special", special}};
}

}  // namespace mpitune::testing
