// The BPE model and its word cache (see bpe_model.hpp).
#include "mpitune/tokenize/bpe_model.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <mutex>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/utf8.hpp"

namespace mpitune {

// Word -> ids, shared by all threads. 64 shards with a mutex each: contention is rare with a
// handful of threads, and a lookup is one hash and one short critical section. A full shard is
// emptied and refilled, so memory stays bounded (64 x 8192 words) on any corpus.
class BpeModel::Cache {
 public:
  static constexpr size_t kMaxWordBytes = 256;  // as the tokenizers library: longer words are rare
  static constexpr size_t kShards = 64;
  static constexpr size_t kMaxPerShard = 8192;

  bool get(const std::string& word, size_t hash, std::vector<int32_t>& out) {
    Shard& s = shards_[hash % kShards];
    std::lock_guard<std::mutex> lock(s.mutex);
    const auto it = s.map.find(word);
    if (it == s.map.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }

  void put(const std::string& word, size_t hash, const int32_t* ids, size_t n) {
    Shard& s = shards_[hash % kShards];
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.map.size() >= kMaxPerShard) s.map.clear();
    s.map.emplace(word, std::vector<int32_t>(ids, ids + n));
  }

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>> map;
  };
  std::array<Shard, kShards> shards_;
};

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& problem) {
  throw ConfigError("data.tokenizer", where + ": " + problem,
                    "the file is damaged or not a tokenizer the tokenizers library can load");
}

}  // namespace

BpeModel::BpeModel(Vocab vocab, const Merges& merges, BpeOptions options, const std::string& where)
    : vocab_(std::move(vocab)), options_(std::move(options)), cache_(std::make_unique<Cache>()) {
  for (const auto& [token, id] : vocab_) {
    if (id < 0) bad(where, "the vocabulary gives '" + token + "' the negative id " + std::to_string(id));
    id_end_ = std::max<int64_t>(id_end_, int64_t{id} + 1);
  }
  token_of_.assign(static_cast<size_t>(id_end_), nullptr);
  for (const auto& entry : vocab_) {
    token_of_[static_cast<size_t>(entry.second)] = &entry.first;
    size_t i = 0;
    char32_t cp;
    if (utf8::next(entry.first, i, cp) && i == entry.first.size()) char_ids_.emplace(cp, entry.second);
  }

  // Merge results are "a" + "b" without b's continuing_subword_prefix, as the library builds them.
  const size_t prefix_len = options_.continuing_subword_prefix.size();
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab_.find(a);
    const auto ib = vocab_.find(b);
    if (ia == vocab_.end() || ib == vocab_.end())
      bad(where, "merge " + std::to_string(rank + 1) + " ('" + a + " " + b + "') names '" +
                     (ia == vocab_.end() ? a : b) + "', which is not in the vocabulary");
    const std::string merged = a + (b.size() >= prefix_len ? b.substr(prefix_len) : std::string());
    const auto im = vocab_.find(merged);
    if (im == vocab_.end())
      bad(where, "merge " + std::to_string(rank + 1) + " ('" + a + " " + b + "') makes '" + merged +
                     "', which is not in the vocabulary");
    // A pair listed twice keeps its last rank, as the library's map does.
    merges_[pair_key(ia->second, ib->second)] = Merge{static_cast<int32_t>(rank), im->second};
  }

  if (!options_.unk_token.empty()) {
    const auto it = vocab_.find(options_.unk_token);
    if (it == vocab_.end()) bad(where, "unk_token '" + options_.unk_token + "' is not in the vocabulary");
    unk_id_ = it->second;
  }
  if (options_.byte_fallback) {
    byte_fallback_ids_.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      byte_fallback_ids_[b] = id_of(name);
    }
  }
}

BpeModel::~BpeModel() = default;

int32_t BpeModel::id_of(const std::string& token) const {
  const auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

const std::string* BpeModel::token_of(int32_t id) const {
  return id >= 0 && id < id_end_ ? token_of_[static_cast<size_t>(id)] : nullptr;
}

void BpeModel::encode_word(const std::string& word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    const auto it = vocab_.find(word);
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (word.size() >= Cache::kMaxWordBytes) {
    encode_word_uncached(word, out);
    return;
  }
  const size_t hash = std::hash<std::string>()(word);
  if (cache_->get(word, hash, out)) return;
  const size_t start = out.size();
  encode_word_uncached(word, out);
  cache_->put(word, hash, out.data() + start, out.size() - start);
}

void BpeModel::encode_word_uncached(std::string_view word, std::vector<int32_t>& out) const {
  thread_local std::vector<int32_t> ids;   // symbol ids, in order
  thread_local std::vector<int32_t> lens;  // their byte lengths (0: merged into the left)
  ids.clear();
  lens.clear();
  const bool affixes = !options_.continuing_subword_prefix.empty() || !options_.end_of_word_suffix.empty();
  int32_t pending_unk_len = 0;  // an unk symbol not added yet (it may still fuse)
  auto flush_unk = [&] {
    if (pending_unk_len > 0) {
      ids.push_back(unk_id_);
      lens.push_back(pending_unk_len);
      pending_unk_len = 0;
    }
  };

  std::string key;
  size_t i = 0;
  while (i < word.size()) {
    const size_t start = i;
    char32_t cp = utf8::kReplacement;
    if (!utf8::next(word, i, cp)) i = start + 1;  // not for encode(): it repaired the text
    const auto len = static_cast<int32_t>(i - start);
    const std::string_view ch = word.substr(start, i - start);
    int32_t id = -1;
    if (!affixes) {
      const auto it = char_ids_.find(cp);
      if (it != char_ids_.end()) id = it->second;
    } else {
      key.clear();
      if (start > 0) key += options_.continuing_subword_prefix;
      key.append(ch);
      if (i == word.size()) key += options_.end_of_word_suffix;
      id = id_of(key);
    }
    if (id >= 0) {
      flush_unk();
      ids.push_back(id);
      lens.push_back(len);
      continue;
    }
    if (options_.byte_fallback) {
      // The library converts the bytes of the (prefixed) string it looked up.
      const std::string_view bytes = affixes ? std::string_view(key) : ch;
      bool all = true;
      for (char b : bytes) all = all && byte_fallback_ids_[static_cast<unsigned char>(b)] >= 0;
      if (all) {
        // No flush_unk() here: the library adds a pending unk only at the next vocabulary
        // character (or the end), after these bytes. Kept for identical ids.
        for (char b : bytes) {
          ids.push_back(byte_fallback_ids_[static_cast<unsigned char>(b)]);
          lens.push_back(1);
        }
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (pending_unk_len > 0 && !options_.fuse_unk) flush_unk();
      pending_unk_len += len;
    }
    // No unk token: the character is dropped, as the library does.
  }
  flush_unk();
  merge_all(ids, lens);
  for (size_t k = 0; k < ids.size(); ++k)
    if (lens[k] > 0) out.push_back(ids[k]);
}

// Lowest rank first, leftmost first among equal ranks; stale queue entries (their symbols have
// changed since) are skipped. The same procedure as the library's Word::merge_all.
void BpeModel::merge_all(std::vector<int32_t>& ids, std::vector<int32_t>& lens) const {
  const int n = static_cast<int>(ids.size());
  if (n < 2) return;
  thread_local std::vector<int> prev, next;
  prev.resize(n);
  next.resize(n);
  for (int k = 0; k < n; ++k) {
    prev[k] = k - 1;
    next[k] = k + 1 < n ? k + 1 : -1;
  }
  struct Entry {
    int32_t rank;
    int pos;
    int32_t new_id;
  };
  // std heap is a max-heap: "greater" means lower priority.
  auto later = [](const Entry& x, const Entry& y) { return x.rank != y.rank ? x.rank > y.rank : x.pos > y.pos; };
  thread_local std::vector<Entry> heap;
  heap.clear();
  auto push = [&](int pos) {
    const int right = next[pos];
    if (right < 0) return;
    const auto it = merges_.find(pair_key(ids[pos], ids[right]));
    if (it == merges_.end()) return;
    heap.push_back({it->second.rank, pos, it->second.new_id});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int k = 0; k + 1 < n; ++k) {
    const auto it = merges_.find(pair_key(ids[k], ids[k + 1]));
    if (it != merges_.end()) heap.push_back({it->second.rank, k, it->second.new_id});
  }
  std::make_heap(heap.begin(), heap.end(), later);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Entry top = heap.back();
    heap.pop_back();
    const int pos = top.pos;
    if (lens[pos] == 0 || next[pos] < 0) continue;
    const int right = next[pos];
    const auto it = merges_.find(pair_key(ids[pos], ids[right]));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;  // stale
    ids[pos] = top.new_id;
    lens[pos] += lens[right];
    lens[right] = 0;
    next[pos] = next[right];
    if (next[pos] >= 0) prev[next[pos]] = pos;
    if (prev[pos] >= 0) push(prev[pos]);
    push(pos);
  }
}

}  // namespace mpitune
