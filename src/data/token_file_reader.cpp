// TokenCorpus::open: a token file (layout in token_file.hpp) memory-mapped and checked.
// The mapping is read-only and MAP_SHARED, so every rank of a node that opens the file reads
// the same page-cache pages: one copy of the corpus per node, however many ranks train on it.
#include <array>
#include <atomic>
#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/data/token_file.hpp"

namespace mpitune {
namespace {

std::array<std::atomic<int64_t>, 3>& split_accesses() {
  static std::array<std::atomic<int64_t>, 3> counts{};
  return counts;
}

}  // namespace

int64_t token_split_accesses(SplitKind s) { return split_accesses()[static_cast<int>(s)].load(); }

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the token file's arrays are read in place");

// Walks the mapped bytes in layout order; every read is bounds-checked against the file size.
class Cursor {
 public:
  Cursor(const uint8_t* base, uint64_t size, const std::string& path) : base_(base), size_(size), path_(path) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw InfraError("token file '" + path_ + "': " + problem +
                     " (it is a cache: delete it and mpitune tokenizes the corpus again)");
  }
  // `count` items of `item` bytes starting here; returns where they start.
  const uint8_t* take(uint64_t count, uint64_t item, const char* what) {
    if (count > (size_ - offset_) / item)
      fail(std::string("truncated: ") + what + " needs " + std::to_string(count * item) + " bytes at offset " +
           std::to_string(offset_) + ", the file has " + std::to_string(size_));
    const uint8_t* p = base_ + offset_;
    offset_ += count * item;
    return p;
  }
  uint32_t u32(const char* what) {
    uint32_t v;
    std::memcpy(&v, take(1, 4, what), 4);
    return v;
  }
  int64_t i64(const char* what) {
    int64_t v;
    std::memcpy(&v, take(1, 8, what), 8);
    return v;
  }
  void pad() {
    if (offset_ % 8) take(8 - offset_ % 8, 1, "padding");
  }
  uint64_t offset() const { return offset_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* base_;
  uint64_t size_;
  uint64_t offset_ = 0;
  const std::string& path_;
};

class MappedTokenCorpus final : public TokenCorpus {
 public:
  explicit MappedTokenCorpus(const std::string& path) : path_(path), map_(path) {}

  void parse() {
    const size_t bytes = map_.size();
    if (bytes < 64)  // anything this short lacks a header
      throw InfraError("token file '" + path_ + "': truncated (" + std::to_string(bytes) +
                       " bytes, no header; it is a cache: delete it and mpitune tokenizes the corpus again)");
    Cursor c(map_.data(), bytes, path_);
    if (std::memcmp(map_.data(), kTokenFileMagic, sizeof kTokenFileMagic) != 0)
      c.fail("not a token file (no MPTTOKNS magic)");
    c.take(sizeof kTokenFileMagic, 1, "magic");
    const uint32_t version = c.u32("version");
    if (version != kTokenFileVersion)
      c.fail("format version " + std::to_string(version) + ", this mpitune reads version " +
             std::to_string(kTokenFileVersion));
    c.u32("reserved");
    vocab_size_ = c.i64("vocab size");
    if (vocab_size_ <= 0 || vocab_size_ > (int64_t{1} << 31)) c.fail("vocab size " + std::to_string(vocab_size_));
    const int64_t fp_bytes = c.i64("fingerprint length");
    if (fp_bytes < 0) c.fail("negative fingerprint length");
    const uint8_t* fp = c.take(static_cast<uint64_t>(fp_bytes), 1, "fingerprint");
    fingerprint_.assign(reinterpret_cast<const char*>(fp), static_cast<size_t>(fp_bytes));
    c.pad();
    for (int s = 0; s < 3; ++s) parse_split(c, splits_[s], split_name(static_cast<SplitKind>(s)));
    if (c.offset() != c.size())
      c.fail(std::to_string(c.size() - c.offset()) + " bytes past the end of the test split");
  }

  const TokenSplit& split_info(SplitKind s) const override {
    const int i = static_cast<int>(s);
    MPITUNE_CHECK(i >= 0 && i < 3, "no such split");
    return splits_[i];
  }

  const TokenSplit& split(SplitKind s) const override {
    const int i = static_cast<int>(s);
    MPITUNE_CHECK(i >= 0 && i < 3, "no such split");
    split_accesses()[i].fetch_add(1, std::memory_order_relaxed);
    return splits_[i];
  }
  const std::string& path() const override { return path_; }
  const std::string& tokenizer_fingerprint() const override { return fingerprint_; }
  int64_t vocab_size() const override { return vocab_size_; }

 private:
  void parse_split(Cursor& c, TokenSplit& out, const std::string& name) {
    out.size = c.i64("split size");
    out.documents = c.i64("split documents");
    const int64_t has_mask = c.i64("split mask flag");
    if (out.size < 0 || out.documents < 0 || (has_mask != 0 && has_mask != 1))
      c.fail("the " + name + " split's header is invalid (size " + std::to_string(out.size) + ", documents " +
             std::to_string(out.documents) + ", mask flag " + std::to_string(has_mask) + ")");
    const auto size = static_cast<uint64_t>(out.size);
    out.ids = reinterpret_cast<const int32_t*>(c.take(size, sizeof(int32_t), "ids"));
    c.pad();
    out.loss_mask = nullptr;
    if (has_mask) {
      out.loss_mask = c.take(size, 1, "loss mask");
      c.pad();
    }
    if (static_cast<uint64_t>(out.documents) >= c.size() / 8) c.fail("the " + name + " split's document count is past the file");
    out.doc_begin = reinterpret_cast<const int64_t*>(c.take(static_cast<uint64_t>(out.documents) + 1, 8, "doc_begin"));
    if (out.doc_begin[0] != 0 || out.doc_begin[out.documents] != out.size)
      c.fail("the " + name + " split's document offsets do not span its " + std::to_string(out.size) + " tokens");
    for (int64_t d = 0; d < out.documents; ++d)
      if (out.doc_begin[d + 1] < out.doc_begin[d]) c.fail("the " + name + " split's document offsets decrease");
  }

  std::string path_;
  MappedFile map_;
  int64_t vocab_size_ = 0;
  std::string fingerprint_;
  TokenSplit splits_[3];
};

}  // namespace

std::shared_ptr<const TokenCorpus> TokenCorpus::open(const std::string& path) {
  auto corpus = std::make_shared<MappedTokenCorpus>(path);
  corpus->parse();
  return corpus;
}

}  // namespace mpitune
