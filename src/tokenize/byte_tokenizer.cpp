// The byte tokenizer: id = byte value (see tokenizer.hpp).
#include "mpitune/tokenize/tokenizer.hpp"

namespace mpitune {
namespace {

class ByteTokenizer final : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text) const override {
    std::vector<int32_t> ids(text.size());
    for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
    return ids;
  }
  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string s;
    s.reserve(ids.size());
    for (int32_t id : ids)
      if (id >= 0 && id < 256) s.push_back(static_cast<char>(id));
    return s;
  }
  int64_t vocab_size() const override { return 256; }
  std::string kind() const override { return "bytes"; }
  std::string description() const override { return "bytes, 256 ids"; }
  std::string fingerprint() const override { return "bytes-v1"; }
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() { return std::make_unique<ByteTokenizer>(); }

}  // namespace mpitune
