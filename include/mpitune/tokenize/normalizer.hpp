// The `normalizer` step of tokenizer.json: text -> text before pre-tokenization.
//
// Supported: the Unicode forms NFC (Qwen2), NFD, NFKC, NFKD (through ICU's unorm2) and Sequence
// of supported ones. A null normalizer is no object at all. Byte-level tokenizers use nothing
// else; anything else is a ConfigError naming its type (see bpe_json.cpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mpitune {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(std::string_view text) const = 0;
};

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };

// Throws ConfigError("data.tokenizer", ...) when this build has no ICU.
std::unique_ptr<Normalizer> make_unicode_normalizer(UnicodeForm form);
std::unique_ptr<Normalizer> make_sequence_normalizer(std::vector<std::unique_ptr<Normalizer>> steps);

}  // namespace mpitune
