// A SentencePiece tokenizer.model (Llama-2, TinyLlama, Mistral) through Debian's libsentencepiece:
// the ids are exactly spm_encode's, since it is the same library. The library is reached through
// the mpitune_sentencepiece module, never linked (why: sentencepiece_abi.h); the module is loaded
// when the first tokenizer.model is. BOS/EOS are the model's unless tokenizer_config.json /
// config.json name others; add_bos defaults to true, as Llama-2's tokenizer does
// (tokenizer_config.json's add_bos_token can say otherwise). Text written as "<s>" is encoded as
// text, as spm_encode does. The model is immutable once loaded and SentencePiece's Encode and
// Decode are const, so encode() is thread-safe.
#include "../json_file.hpp"
#include "../loaders.hpp"
#include "../special_tokens.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/tokenize/fingerprint.hpp"
#include "sentencepiece_model.hpp"

namespace mpitune {
namespace {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::string& dir, const std::string& bytes)
      : dir_(dir), path_(dir + "/tokenizer.model"), sp_(bytes, path_) {
    SpecialTokenDefaults d;
    d.id_of = [this](const std::string& piece) { return sp_.piece_id(piece); };
    d.default_bos = sp_.bos_id();
    d.default_eos = sp_.eos_id();
    d.default_add_bos = true;
    std::vector<std::string> config_files;
    special_ = read_special_tokens(dir, d, config_files);
    files_.push_back(path_);
    for (const auto& f : config_files) files_.push_back(f);
    if (is_regular_file(dir + "/special_tokens_map.json")) files_.push_back(dir + "/special_tokens_map.json");
    fingerprint_ = Fingerprint()
                       .add("mpitune-tokenizer-v1")
                       .add("sentencepiece")
                       .add("tokenizer.model")
                       .add(bytes)
                       .add(fingerprint_text(special_))
                       .hex();
  }

  std::vector<int32_t> encode(std::string_view text) const override { return sp_.encode(text); }

  std::string decode(const std::vector<int32_t>& ids) const override {
    std::vector<int32_t> valid;
    valid.reserve(ids.size());
    for (int32_t id : ids)
      if (id >= 0 && id < sp_.vocab_size()) valid.push_back(id);
    return sp_.decode(valid);
  }

  int64_t vocab_size() const override { return sp_.vocab_size(); }
  int32_t bos_id() const override { return special_.bos; }
  int32_t eos_id() const override { return special_.eos; }
  bool add_bos() const override { return special_.add_bos; }
  std::string kind() const override { return "sentencepiece"; }
  std::string description() const override {
    return "sentencepiece (tokenizer.model in " + dir_ + "), " + std::to_string(sp_.vocab_size()) + " ids";
  }
  std::string fingerprint() const override { return fingerprint_; }
  std::vector<std::string> files() const override { return files_; }

 private:
  std::string dir_;
  std::string path_;
  SentencePieceModel sp_;
  SpecialTokens special_;
  std::string fingerprint_;
  std::vector<std::string> files_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& dir) {
  const std::string abs = absolute_dir(dir);
  // Read first, so an unreadable file is reported as before, whether or not the module loads.
  const std::string bytes = tokenizer_json::read_bytes(abs + "/tokenizer.model");
  return std::make_unique<SentencePieceTokenizer>(abs, bytes);
}

}  // namespace mpitune
