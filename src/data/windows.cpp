// Training and evaluation windows over a token split, and the batches made of them
// (see token_corpus.hpp). Every rank of a group draws the offsets of the whole global batch
// and fills only its own rows, so the batch does not depend on the group size.
#include "mpitune/core/error.hpp"
#include "mpitune/data/token_corpus.hpp"

namespace mpitune {
namespace {

constexpr int64_t kIgnoredTarget = -100;  // torch's cross_entropy ignore_index

void check_window(const TokenSplit& split, int64_t window, int64_t count) {
  MPITUNE_CHECK(window >= 2, "a window needs at least 2 tokens (one input, one target), got " + std::to_string(window));
  MPITUNE_CHECK(split.size >= window, "split of " + std::to_string(split.size) + " tokens is smaller than one window of " +
                                          std::to_string(window));
  MPITUNE_CHECK(count >= 0, "negative window count");
}

void check_rows(const TokenSplit& split, const std::vector<int64_t>& offsets, int64_t begin, int64_t end,
                int64_t window) {
  MPITUNE_CHECK(window >= 2, "a window needs at least 2 tokens");
  MPITUNE_CHECK(begin >= 0 && begin <= end && end <= static_cast<int64_t>(offsets.size()), "window rows out of range");
  for (int64_t r = begin; r < end; ++r) {
    const int64_t o = offsets[static_cast<size_t>(r)];
    MPITUNE_CHECK(o >= 0 && o <= split.size - window, "window offset " + std::to_string(o) + " past the split of " +
                                                          std::to_string(split.size) + " tokens");
  }
}

}  // namespace

std::vector<int64_t> draw_windows(Rng& rng, const TokenSplit& split, int64_t window, int64_t count) {
  check_window(split, window, count);
  std::vector<int64_t> out(static_cast<size_t>(count));
  for (auto& o : out) o = rng.integer(0, split.size - window);
  return out;
}

std::vector<int64_t> spaced_windows(const TokenSplit& split, int64_t window, int64_t count) {
  check_window(split, window, count);
  const int64_t last = split.size - window;
  std::vector<int64_t> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    // Integer arithmetic (in 128 bits against overflow) so every platform picks the same tokens.
    out[static_cast<size_t>(i)] =
        count == 1 ? 0 : static_cast<int64_t>(static_cast<__int128>(last) * i / (count - 1));
  return out;
}

int64_t fill_batch(const TokenSplit& split, const std::vector<int64_t>& offsets, int64_t begin,
                   int64_t end, int64_t window, int64_t* inputs, int64_t* targets) {
  check_rows(split, offsets, begin, end, window);
  MPITUNE_CHECK(begin == end || (inputs && targets), "null batch buffers");
  const int64_t positions = window - 1;
  int64_t counted = 0;
  for (int64_t r = begin; r < end; ++r) {
    const int64_t o = offsets[static_cast<size_t>(r)];
    const int32_t* ids = split.ids + o;
    int64_t* in = inputs + (r - begin) * positions;
    int64_t* tg = targets + (r - begin) * positions;
    for (int64_t j = 0; j < positions; ++j) in[j] = ids[j];
    if (!split.loss_mask) {
      for (int64_t j = 0; j < positions; ++j) tg[j] = ids[j + 1];
      counted += positions;
    } else {
      // mask[i] says whether token i counts as a target: the target of position j is o + 1 + j.
      const uint8_t* mask = split.loss_mask + o + 1;
      for (int64_t j = 0; j < positions; ++j) {
        tg[j] = mask[j] ? ids[j + 1] : kIgnoredTarget;
        counted += mask[j] ? 1 : 0;
      }
    }
  }
  return counted;
}

int64_t count_targets(const TokenSplit& split, const std::vector<int64_t>& offsets, int64_t begin,
                      int64_t end, int64_t window) {
  check_rows(split, offsets, begin, end, window);
  const int64_t positions = window - 1;
  if (!split.loss_mask) return (end - begin) * positions;
  int64_t counted = 0;
  for (int64_t r = begin; r < end; ++r) {
    const uint8_t* mask = split.loss_mask + offsets[static_cast<size_t>(r)] + 1;
    for (int64_t j = 0; j < positions; ++j) counted += mask[j] ? 1 : 0;
  }
  return counted;
}

}  // namespace mpitune
