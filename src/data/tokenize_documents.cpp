// Documents to token ids with a pool of threads, in document order (see tokenize_documents.hpp).
#include "mpitune/data/tokenize_documents.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/tokenizer.hpp"

namespace mpitune {
namespace {

// Small enough that the last chunks spread over the threads, large enough that the shared
// counter is not contended for short documents (a fortune is ~200 bytes).
constexpr int64_t kChunkDocuments = 32;
constexpr auto kProgressPoll = std::chrono::milliseconds(200);

void append_checked(std::vector<int32_t>& out, const std::vector<int32_t>& ids, const Tokenizer& tok) {
  const int64_t vocab = tok.vocab_size();
  for (int32_t id : ids)
    MPITUNE_CHECK(id >= 0 && id < vocab, "the tokenizer " + tok.description() + " returned id " + std::to_string(id) +
                                             ", outside its vocabulary of " + std::to_string(vocab));
  out.insert(out.end(), ids.begin(), ids.end());
}

}  // namespace

TokenizedDocument tokenize_document(const Document& doc, const Tokenizer& tok) {
  TokenizedDocument out;
  const int32_t bos = tok.bos_id();
  const int32_t eos = tok.eos_id();
  const int64_t vocab = tok.vocab_size();
  MPITUNE_CHECK(bos < vocab && eos < vocab, "BOS/EOS ids of " + tok.description() + " outside its vocabulary");
  if (tok.add_bos() && bos >= 0) out.ids.push_back(bos);
  if (doc.prompted) {
    // Two encodes, not one of prompt + completion: the prompt must end on a token boundary, or
    // a token spanning both would make the loss mask cut through a token.
    append_checked(out.ids, tok.encode(doc.prompt), tok);
    out.unscored = static_cast<int64_t>(out.ids.size());
  }
  append_checked(out.ids, tok.encode(doc.text), tok);
  if (eos >= 0) out.ids.push_back(eos);
  return out;
}

std::vector<TokenizedDocument> tokenize_documents(std::vector<Document>& docs, const Tokenizer& tok,
                                                  int threads, const TokenizeProgress& progress) {
  const auto n = static_cast<int64_t>(docs.size());
  std::vector<TokenizedDocument> out(docs.size());
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t chunks = (n + kChunkDocuments - 1) / kChunkDocuments;
  threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, chunks)));

  std::atomic<int64_t> next_chunk{0};
  std::atomic<int64_t> documents_done{0};
  std::atomic<int64_t> tokens_done{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards error and running
  std::condition_variable finished;
  std::exception_ptr error;
  int running = 0;

  auto work = [&]() {
    try {
      for (;;) {
        if (failed.load(std::memory_order_relaxed)) break;
        const int64_t chunk = next_chunk.fetch_add(1);
        if (chunk >= chunks) break;
        const int64_t begin = chunk * kChunkDocuments;
        const int64_t end = std::min(n, begin + kChunkDocuments);
        int64_t tokens = 0;
        for (int64_t i = begin; i < end; ++i) {
          auto& doc = docs[static_cast<size_t>(i)];
          auto& result = out[static_cast<size_t>(i)];  // each document's own slot: order kept
          result = tokenize_document(doc, tok);
          tokens += static_cast<int64_t>(result.ids.size());
          std::string().swap(doc.text);  // release the text now, not at the end
          std::string().swap(doc.prompt);
        }
        documents_done.fetch_add(end - begin);
        tokens_done.fetch_add(tokens);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };

  // The workers run on their own threads; this one only reports progress until they are done.
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  try {
    for (int t = 0; t < threads; ++t) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        ++running;
      }
      pool.emplace_back([&]() {
        work();
        std::lock_guard<std::mutex> lock(mutex);
        --running;
        finished.notify_one();
      });
    }
  } catch (const std::system_error&) {
    // Fewer threads than asked (a process limit): the ones started take every chunk.
    std::lock_guard<std::mutex> lock(mutex);
    --running;  // the one counted but not started
  }
  if (pool.empty()) work();
  {
    std::unique_lock<std::mutex> lock(mutex);
    while (running > 0) {
      finished.wait_for(lock, kProgressPoll, [&]() { return running == 0; });
      if (progress && running > 0 && !failed) {
        lock.unlock();
        try {
          progress(documents_done.load(), tokens_done.load());
        } catch (...) {  // the threads must still be joined before anything is thrown
          failed = true;
          lock.lock();
          if (!error) error = std::current_exception();
          continue;
        }
        lock.lock();
      }
    }
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  if (progress) progress(documents_done.load(), tokens_done.load());
  return out;
}

}  // namespace mpitune
