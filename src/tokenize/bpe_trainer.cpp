// Byte-level BPE training and the files it writes (see bpe_trainer.hpp).
#include "mpitune/tokenize/bpe_trainer.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <queue>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/tokenize/byte_level.hpp"
#include "mpitune/tokenize/pre_tokenizer.hpp"
#include "mpitune/tokenize/utf8.hpp"

namespace mpitune {
namespace {

using ordered_json = nlohmann::ordered_json;

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
int32_t left_of(uint64_t key) { return static_cast<int32_t>(key >> 32); }
int32_t right_of(uint64_t key) { return static_cast<int32_t>(key & 0xffffffffu); }

// A candidate merge in the heap: valid while `count` is still the pair's current count.
struct Candidate {
  int64_t count;
  uint64_t pair;
};
// std::priority_queue pops the largest: the higher count, then the smaller pair of ids.
struct LowerPriority {
  bool operator()(const Candidate& x, const Candidate& y) const {
    return x.count != y.count ? x.count < y.count : x.pair > y.pair;
  }
};

struct Word {
  std::vector<int32_t> symbols;
  int64_t count;
};

// Replaces every (a, b) in `s`, left to right, by `merged`. Returns whether anything changed.
bool merge_in(std::vector<int32_t>& s, int32_t a, int32_t b, int32_t merged) {
  size_t out = 0;
  bool changed = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
      s[out++] = merged;
      ++i;
      changed = true;
    } else {
      s[out++] = s[i];
    }
  }
  s.resize(out);
  return changed;
}

}  // namespace

BpeTrainer::BpeTrainer(BpeTrainerOptions options) : options_(std::move(options)) {
  const int64_t least = 256 + static_cast<int64_t>(options_.special_tokens.size());
  if (options_.vocab_size < least)
    throw ConfigError("--vocab-size", std::to_string(options_.vocab_size) + " leaves no room for the 256 byte symbols and " +
                                          std::to_string(options_.special_tokens.size()) + " special token(s)",
                      "give at least " + std::to_string(least) + " (a few thousand for a small model)");
  if (options_.vocab_size > INT32_MAX) throw ConfigError("--vocab-size", "is larger than 2^31 - 1");
  for (size_t i = 0; i < options_.special_tokens.size(); ++i) {
    const std::string& t = options_.special_tokens[i];
    if (t.empty()) throw ConfigError("--special-tokens", "an empty special token", "remove it");
    for (size_t j = 0; j < i; ++j)
      if (options_.special_tokens[j] == t) throw ConfigError("--special-tokens", "'" + t + "' is listed twice", "list it once");
  }
  if (options_.min_frequency < 1) options_.min_frequency = 1;
}

void BpeTrainer::add_document(std::string_view raw) {
  const std::string text = utf8::is_valid(raw) ? std::string(raw) : utf8::repaired(raw);
  // Cut at the special tokens, leftmost first (the longest one where two start together), as
  // the encoder's added-token matcher does: they are ids of their own, never parts of words.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t best = std::string::npos, best_len = 0;
    for (const auto& t : options_.special_tokens) {
      const size_t at = text.find(t, pos);
      if (at < best || (at == best && t.size() > best_len)) {
        best = at;
        best_len = t.size();
      }
    }
    if (best == std::string::npos) {
      add_segment(std::string_view(text).substr(pos));
      break;
    }
    add_segment(std::string_view(text).substr(pos, best - pos));
    pos = best + best_len;
  }
}

void BpeTrainer::add_segment(std::string_view text) {
  if (text.empty()) return;
  // The ByteLevel pre-tokenizer's split (use_regex, no prefix space) without its mapping to the
  // alphabet: the same words, as raw bytes (byte b is symbol b).
  static const auto split = make_split_pre_tokenizer(Regex(kGpt2Pattern, "GPT-2 split pattern"),
                                                     SplitBehavior::Isolated, false);
  std::vector<std::string> pieces{std::string(text)};
  split->apply(pieces);
  for (auto& p : pieces) {
    ++counts_[std::move(p)];
    ++word_total_;
  }
}

TrainedBpe BpeTrainer::train() const {
  TrainedBpe out;
  std::unordered_map<std::string, int32_t> id_of;
  for (int b = 0; b < 256; ++b) {
    std::string token;
    utf8::append(token, byte_level::char_of(static_cast<unsigned char>(b)));
    id_of.emplace(token, b);
    out.vocab.push_back(std::move(token));
  }
  const auto merged_target = static_cast<size_t>(options_.vocab_size) - options_.special_tokens.size();

  // The words in byte order (the counts below do not depend on it; it keeps every step's order
  // independent of the hash map's).
  std::vector<std::pair<std::string, int64_t>> sorted(counts_.begin(), counts_.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (const auto& [text, count] : sorted) {
    if (text.size() < 2) continue;  // no pair in it
    Word w;
    w.count = count;
    w.symbols.reserve(text.size());
    for (char c : text) w.symbols.push_back(static_cast<unsigned char>(c));
    words.push_back(std::move(w));
  }

  // Pair -> count over all words, and pair -> the words that hold it (maybe no longer: a word
  // is checked before it is changed).
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int32_t>> where;
  for (size_t w = 0; w < words.size(); ++w) {
    const auto& s = words[w].symbols;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t key = pair_key(s[i], s[i + 1]);
      pair_count[key] += words[w].count;
      auto& list = where[key];
      if (list.empty() || list.back() != static_cast<int32_t>(w)) list.push_back(static_cast<int32_t>(w));
    }
  }
  std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> heap;
  for (const auto& [key, count] : pair_count) heap.push({count, key});

  std::unordered_map<uint64_t, int64_t> delta;
  while (out.vocab.size() < merged_target) {
    // The best pair whose heap entry is current; a stale entry with a lower count than now
    // cannot be the only one (every increase pushed a fresh entry), a higher one is re-queued.
    bool found = false;
    Candidate top{};
    while (!heap.empty()) {
      top = heap.top();
      heap.pop();
      const auto it = pair_count.find(top.pair);
      const int64_t now = it == pair_count.end() ? 0 : it->second;
      if (now == top.count) {
        found = true;
        break;
      }
      if (now > 0 && now < top.count) heap.push({now, top.pair});
    }
    if (!found || top.count < options_.min_frequency) {
      out.exhausted = true;
      break;
    }

    const int32_t a = left_of(top.pair), b = right_of(top.pair);
    const std::string text = out.vocab[static_cast<size_t>(a)] + out.vocab[static_cast<size_t>(b)];
    out.merges.emplace_back(out.vocab[static_cast<size_t>(a)], out.vocab[static_cast<size_t>(b)]);
    int32_t merged;
    const auto known = id_of.find(text);
    if (known != id_of.end()) {
      merged = known->second;
    } else {
      merged = static_cast<int32_t>(out.vocab.size());
      id_of.emplace(text, merged);
      out.vocab.push_back(text);
    }

    std::vector<int32_t> holders = std::move(where[top.pair]);
    where.erase(top.pair);
    std::sort(holders.begin(), holders.end());
    holders.erase(std::unique(holders.begin(), holders.end()), holders.end());
    delta.clear();
    for (const int32_t w : holders) {
      Word& word = words[static_cast<size_t>(w)];
      std::vector<int32_t>& s = word.symbols;
      bool holds = false;
      for (size_t i = 0; i + 1 < s.size() && !holds; ++i) holds = s[i] == a && s[i + 1] == b;
      if (!holds) continue;
      for (size_t i = 0; i + 1 < s.size(); ++i) delta[pair_key(s[i], s[i + 1])] -= word.count;
      merge_in(s, a, b, merged);
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const uint64_t key = pair_key(s[i], s[i + 1]);
        delta[key] += word.count;
        if (s[i] == merged || s[i + 1] == merged) {
          auto& list = where[key];
          if (list.empty() || list.back() != w) list.push_back(w);
        }
      }
    }
    for (const auto& [key, d] : delta) {
      if (d == 0) continue;
      int64_t& count = pair_count[key];
      count += d;
      MPITUNE_CHECK(count >= 0, "BPE training: a pair count fell below zero");
      if (count == 0) pair_count.erase(key);
      else if (d > 0) heap.push({count, key});
    }
  }

  out.eos_id = options_.special_tokens.empty() ? -1 : static_cast<int32_t>(out.vocab.size());
  out.special_count = options_.special_tokens.size();
  for (const auto& t : options_.special_tokens) out.vocab.push_back(t);
  return out;
}

namespace {

ordered_json byte_level_component(bool add_prefix_space, bool trim_offsets) {
  ordered_json j;
  j["type"] = "ByteLevel";
  j["add_prefix_space"] = add_prefix_space;
  j["trim_offsets"] = trim_offsets;
  j["use_regex"] = true;
  return j;
}

ordered_json added_token_json(const std::string& content, bool with_id, int64_t id) {
  ordered_json t;
  if (with_id) t["id"] = id;
  t["content"] = content;
  t["single_word"] = false;
  t["lstrip"] = false;
  t["rstrip"] = false;
  t["normalized"] = false;
  t["special"] = true;
  return t;
}

}  // namespace

std::string tokenizer_json_text(const TrainedBpe& bpe) {
  const size_t first_special = bpe.vocab.size() - bpe.special_count;
  ordered_json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  ordered_json added = ordered_json::array();
  for (size_t id = first_special; id < bpe.vocab.size(); ++id)
    added.push_back(added_token_json(bpe.vocab[id], true, static_cast<int64_t>(id)));
  j["added_tokens"] = added;
  j["normalizer"] = nullptr;
  // GPT-2's components: no prefix space, the pattern split, bytes to the alphabet and back.
  j["pre_tokenizer"] = byte_level_component(false, true);
  j["post_processor"] = byte_level_component(true, false);
  j["decoder"] = byte_level_component(true, true);
  ordered_json model;
  model["type"] = "BPE";
  model["dropout"] = nullptr;
  model["unk_token"] = nullptr;
  model["continuing_subword_prefix"] = "";
  model["end_of_word_suffix"] = "";
  model["fuse_unk"] = false;
  model["byte_fallback"] = false;
  model["ignore_merges"] = false;
  ordered_json vocab = ordered_json::object();
  for (size_t id = 0; id < bpe.vocab.size(); ++id) vocab[bpe.vocab[id]] = static_cast<int64_t>(id);
  model["vocab"] = vocab;
  // "a b": byte-level tokens never hold a plain space (it is 'Ġ'), and every reader knows this form.
  ordered_json merges = ordered_json::array();
  for (const auto& [a, b] : bpe.merges) merges.push_back(a + " " + b);
  model["merges"] = merges;
  j["model"] = model;
  return j.dump(1) + "\n";
}

std::string tokenizer_config_json_text(const TrainedBpe& bpe) {
  const size_t first_special = bpe.vocab.size() - bpe.special_count;
  ordered_json j;
  j["add_bos_token"] = false;
  ordered_json decoder = ordered_json::object();
  for (size_t id = first_special; id < bpe.vocab.size(); ++id)
    decoder[std::to_string(id)] = added_token_json(bpe.vocab[id], false, 0);
  j["added_tokens_decoder"] = decoder;
  j["bos_token"] = nullptr;
  j["clean_up_tokenization_spaces"] = false;
  if (bpe.eos_id >= 0) j["eos_token"] = bpe.vocab[static_cast<size_t>(bpe.eos_id)];
  else j["eos_token"] = nullptr;
  j["model_max_length"] = 1000000000000000000LL;
  j["pad_token"] = nullptr;
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  j["unk_token"] = nullptr;
  return j.dump(2) + "\n";
}

std::vector<std::string> write_bpe_tokenizer(const TrainedBpe& bpe, const std::string& dir) {
  make_dirs(dir);
  const std::string tokenizer = join_path(dir, "tokenizer.json");
  const std::string config = join_path(dir, "tokenizer_config.json");
  const std::string t = tokenizer_json_text(bpe);
  const std::string c = tokenizer_config_json_text(bpe);
  write_file_atomic(tokenizer, t.data(), t.size());
  write_file_atomic(config, c.data(), c.size());
  return {tokenizer, config};
}

}  // namespace mpitune
