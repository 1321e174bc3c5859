// SentencePieceModel: one tokenizer.model, held by the mpitune_sentencepiece module
// (sentencepiece_module.hpp loads it), as a C++ object with SentencePieceProcessor's answers.
// Private to src/tokenize. Immutable once built: every method may be called from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sentencepiece_module.hpp"

namespace mpitune {

class SentencePieceModel {
 public:
  // `bytes`: the file's contents; `path`: the file, for messages. Throws ConfigError
  // ("data.tokenizer") when the module cannot be loaded or the bytes are not a SentencePiece model.
  SentencePieceModel(const std::string& bytes, const std::string& path);
  ~SentencePieceModel();
  SentencePieceModel(const SentencePieceModel&) = delete;
  SentencePieceModel& operator=(const SentencePieceModel&) = delete;

  // spm_encode's ids (no BOS/EOS). InfraError when SentencePiece fails.
  std::vector<int32_t> encode(std::string_view text) const;
  // The text of `ids`, every one in [0, vocab_size()). InfraError when SentencePiece fails.
  std::string decode(const std::vector<int32_t>& ids) const;

  int32_t vocab_size() const { return vocab_size_; }
  int32_t bos_id() const;  // -1 when the model has none
  int32_t eos_id() const;
  int32_t unk_id() const;
  // -1 when the vocabulary has no such piece.
  int32_t piece_id(std::string_view piece) const;

 private:
  // The module's message, released; a note instead when the module could not allocate one.
  std::string take_error(char* error) const;

  const sentencepiece_module::Functions& module_;
  std::string path_;
  mpitune_spm_model* model_ = nullptr;
  int32_t vocab_size_ = 0;
};

}  // namespace mpitune
