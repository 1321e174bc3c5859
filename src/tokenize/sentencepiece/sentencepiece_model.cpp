// SentencePieceModel over the module's C interface: every buffer the module hands out is copied
// into a C++ value and released with the module's own free.
#include "sentencepiece_model.hpp"

#include "mpitune/core/error.hpp"

namespace mpitune {

SentencePieceModel::SentencePieceModel(const std::string& bytes, const std::string& path)
    : module_(sentencepiece_module::process_module(path)), path_(path) {
  char* error = nullptr;
  if (module_.load(bytes.data(), bytes.size(), &model_, &error) != 0)
    throw ConfigError("data.tokenizer", path_ + ": not a SentencePiece model (" + take_error(error) + ")",
                      "the file is damaged; download it again");
  vocab_size_ = module_.vocab_size(model_);
}

SentencePieceModel::~SentencePieceModel() { module_.close(model_); }

std::string SentencePieceModel::take_error(char* error) const {
  if (error == nullptr) return "out of memory for the error message";
  std::string message(error);
  module_.free(error);
  return message;
}

std::vector<int32_t> SentencePieceModel::encode(std::string_view text) const {
  int32_t* ids = nullptr;
  size_t count = 0;
  char* error = nullptr;
  if (module_.encode(model_, text.data(), text.size(), &ids, &count, &error) != 0)
    throw InfraError("SentencePiece encode failed for " + path_ + ": " + take_error(error));
  std::vector<int32_t> out(ids, ids + count);
  module_.free(ids);
  return out;
}

std::string SentencePieceModel::decode(const std::vector<int32_t>& ids) const {
  char* text = nullptr;
  size_t size = 0;
  char* error = nullptr;
  if (module_.decode(model_, ids.data(), ids.size(), &text, &size, &error) != 0)
    throw InfraError("SentencePiece decode failed for " + path_ + ": " + take_error(error));
  std::string out(text == nullptr ? "" : std::string(text, size));
  module_.free(text);
  return out;
}

int32_t SentencePieceModel::bos_id() const { return module_.bos_id(model_); }
int32_t SentencePieceModel::eos_id() const { return module_.eos_id(model_); }
int32_t SentencePieceModel::unk_id() const { return module_.unk_id(model_); }
int32_t SentencePieceModel::piece_id(std::string_view piece) const {
  return module_.piece_id(model_, piece.data(), piece.size());
}

}  // namespace mpitune
