// BOS, EOS and add_bos of a tokenizer folder, resolved the same way for every kind (private to
// src/tokenize).
//
// Precedence, first that applies:
//  bos / eos: tokenizer_config.json's bos_token / eos_token (a string or {"content": ...}; null
//             means "not said here"); config.json's bos_token_id / eos_token_id (a number or a
//             list, whose first entry counts); the kind's default (`default_bos` / `default_eos`).
//  add_bos:   tokenizer_config.json's add_bos_token; a post-processor that puts a token first
//             (`prepended`, which then is the BOS); the kind's default.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mpitune {

struct SpecialTokens {
  int32_t bos = -1;
  int32_t eos = -1;
  bool add_bos = false;
};

struct SpecialTokenDefaults {
  std::function<int32_t(const std::string&)> id_of;  // token text -> id, -1 when unknown
  int32_t prepended = -1;
  int32_t default_bos = -1;
  int32_t default_eos = -1;
  bool default_add_bos = false;
};

// Reads dir/tokenizer_config.json and dir/config.json when present; appends the files it read to
// `files_read`. Throws ConfigError("data.tokenizer") when a named token is not in the tokenizer.
SpecialTokens read_special_tokens(const std::string& dir, const SpecialTokenDefaults& d,
                                  std::vector<std::string>& files_read);

// "bos=1 eos=2 add_bos=1": the resolved values, for fingerprints.
std::string fingerprint_text(const SpecialTokens& s);

}  // namespace mpitune
