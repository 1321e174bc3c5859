// Documents to token ids, on all cores, the result independent of the number of threads.
//
// A document becomes [BOS if tok.add_bos() and the tokenizer has one] + tok.encode(text) +
// [EOS when the tokenizer has one]. A prompted document becomes [BOS] + encode(prompt) +
// encode(completion) + [EOS]: the two parts are encoded separately so that the prompt ends on a
// token boundary (encoding the joined text could merge the prompt's last bytes with the
// completion's first into one token, whose loss would then be neither the prompt's nor the
// completion's). Its BOS and prompt tokens do not count in the loss; the completion and the EOS
// do.
//
// Threads take documents in small chunks from a shared counter and write each result into the
// document's own slot, so the output is in document order whatever the thread count and the
// timing. Tokenizer::encode is const and is called from several threads at once: a tokenizer
// that caches must lock its cache.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "mpitune/data/documents.hpp"

namespace mpitune {

class Tokenizer;

struct TokenizedDocument {
  std::vector<int32_t> ids;
  // The leading ids whose loss does not count (BOS and prompt); 0 for plain text.
  int64_t unscored = 0;
};

// Called on the calling thread a few times a second while the threads work, with the
// documents and tokens done so far (for a progress line).
using TokenizeProgress = std::function<void(int64_t documents, int64_t tokens)>;

// The ids of one document (see above). Throws InfraError when the tokenizer returns an id
// outside [0, vocab_size()) (a tokenizer bug the embedding would turn into a crash).
TokenizedDocument tokenize_document(const Document& doc, const Tokenizer& tok);

// Every document of `docs`, in order, with `threads` threads (0 = hardware_concurrency); each
// document's text is released once it is tokenized, to bound the memory of large corpora. The
// first exception of any thread is rethrown here after all threads stopped.
std::vector<TokenizedDocument> tokenize_documents(std::vector<Document>& docs, const Tokenizer& tok,
                                                  int threads, const TokenizeProgress& progress = {});

}  // namespace mpitune
