// The token file: a corpus's three splits as token ids, in one binary file that every rank
// memory-maps (TokenCorpus::open), so a node holds one copy in its page cache.
//
// Layout, little-endian, every section starting at a multiple of 8 bytes (zero padding), so
// the int32 and int64 arrays can be read in place from the mapping:
//
//   magic          8 bytes  "MPTTOKNS"
//   version        uint32   kTokenFileVersion
//   reserved       uint32   0
//   vocab_size     int64    of the tokenizer that made the file
//   fingerprint    uint64 length, then that many bytes (the tokenizer's fingerprint), padded
//   then for each split, in SplitKind order (train, validation, test):
//     size         int64    tokens in the stream
//     documents    int64
//     has_mask     int64    1 when a loss mask follows, else 0
//     ids          size x int32, padded
//     loss_mask    size x uint8, padded (only when has_mask)
//     doc_begin    (documents + 1) x int64: offsets into ids, from 0 to size
//   and the file ends exactly there.
//
// A split stores a mask only when one of its documents has tokens that do not count (a
// prompted document); otherwise TokenSplit::loss_mask is null and every token counts.
// The file is written once, to a temporary file next to its final name, flushed to disk and
// renamed into place: a reader sees either no file or a complete one, and two experiments
// writing the same cache key at once just replace one complete file by an identical one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/data/tokenize_documents.hpp"

namespace mpitune {

// Bumped whenever the layout or the meaning of the ids changes; part of the cache key, so old
// files are never read by a new mpitune.
constexpr uint32_t kTokenFileVersion = 1;
constexpr char kTokenFileMagic[8] = {'M', 'P', 'T', 'T', 'O', 'K', 'N', 'S'};

struct TokenFileContents {
  int64_t vocab_size = 0;
  std::string fingerprint;
  // Per SplitKind: the documents of the split, in stream order (not owned).
  std::array<std::vector<const TokenizedDocument*>, 3> splits;
};

// Writes `contents` to `path` atomically (temp file in the same folder, fsync, rename, fsync of
// the folder). Throws InfraError naming the file on any failed system call.
void write_token_file(const std::string& path, const TokenFileContents& contents);

}  // namespace mpitune
