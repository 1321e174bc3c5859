// The name of a corpus's token file in the cache: a hash of everything that decides its bytes.
//
// The key covers the token file format version, the tokenizer (fingerprint, vocabulary size,
// BOS/EOS ids, add_bos), every [data] option that changes the documents or the split (corpus,
// val_corpus, test_corpus, val_fraction, test_fraction, split_seed, document_separator,
// extensions, exclude, text_field, prompt_field, completion_field) and, for every file read,
// its role, path, size and modification time in nanoseconds. data.tokenizer itself is not in
// it (its fingerprint is), nor data.cache_dir or data.eval_batches, which change nothing in the
// file.
// Editing, adding, removing or touching a corpus file therefore gives a new key, and a second
// prepare with nothing changed finds the first one's file without reading any text.
// The hash is 64-bit FNV-1a over length-prefixed fields (stable across platforms and runs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/core/config.hpp"

namespace mpitune {

class Tokenizer;

struct CorpusFileStamp {
  std::string role;  // the config key that named it: "data.corpus", "data.val_corpus", ...
  std::string path;
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

// The stamp of one file; InfraError naming it when it cannot be stat'ed.
CorpusFileStamp stamp_corpus_file(const std::string& role, const std::string& path);

// 16 hex digits.
std::string token_cache_key(const DataOptions& data, const Tokenizer& tok,
                            const std::vector<CorpusFileStamp>& files);

// "<cache_dir>/tokens-<key>.bin"
std::string token_file_path(const std::string& cache_dir, const std::string& key);

}  // namespace mpitune
