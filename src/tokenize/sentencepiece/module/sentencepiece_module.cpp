// The mpitune_sentencepiece module: the C interface of sentencepiece_abi.h over Debian's
// libsentencepiece. This is the only code that links libsentencepiece; mpitune_tokenize loads it
// with dlopen (why: sentencepiece_abi.h). Everything SentencePiece reports, and every exception,
// becomes an error message here: nothing C++ leaves the module.
#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../sentencepiece_abi.h"
#include "deepbind_streams.hpp"

struct mpitune_spm_model {
  sentencepiece::SentencePieceProcessor processor;
};

namespace {

// A malloc'ed copy of `bytes` (NUL-terminated, so a message is a C string); NULL when empty or out
// of memory, which the callers tell apart by the size they return alongside.
char* malloc_copy(const char* bytes, size_t size) {
  if (size == 0) return nullptr;
  auto* out = static_cast<char*>(std::malloc(size + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, bytes, size);
  out[size] = '\0';
  return out;
}

int fail(char** error, const std::string& message) {
  if (error != nullptr) *error = malloc_copy(message.data(), message.size());
  return -1;
}

// Runs `body`, turning any exception (std::bad_alloc above all) into an error message.
template <class Body>
int guarded(char** error, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    return fail(error, e.what());
  } catch (...) {
    return fail(error, "unknown exception in the SentencePiece module");
  }
}

}  // namespace

extern "C" {

uint32_t mpitune_spm_api_version(void) { return MPITUNE_SPM_API_VERSION; }

int mpitune_spm_load(const char* model_bytes, size_t size, mpitune_spm_model** model, char** error) {
  return guarded(error, [&] {
    mpitune_spm::repair_deepbind_streams();  // before SentencePiece may log anything
    auto loaded = std::make_unique<mpitune_spm_model>();
    const auto status = loaded->processor.LoadFromSerializedProto(std::string_view(model_bytes, size));
    if (!status.ok()) return fail(error, status.ToString());
    *model = loaded.release();
    return 0;
  });
}

void mpitune_spm_close(mpitune_spm_model* model) { delete model; }

int mpitune_spm_encode(const mpitune_spm_model* model, const char* text, size_t size, int32_t** ids, size_t* count,
                       char** error) {
  return guarded(error, [&] {
    std::vector<int> found;
    const auto status = model->processor.Encode(std::string_view(text, size), &found);
    if (!status.ok()) return fail(error, status.ToString());
    *ids = nullptr;
    *count = found.size();
    if (found.empty()) return 0;
    *ids = static_cast<int32_t*>(std::malloc(found.size() * sizeof(int32_t)));
    if (*ids == nullptr) return fail(error, "out of memory for " + std::to_string(found.size()) + " ids");
    for (size_t i = 0; i < found.size(); ++i) (*ids)[i] = found[i];
    return 0;
  });
}

int mpitune_spm_decode(const mpitune_spm_model* model, const int32_t* ids, size_t count, char** text, size_t* size,
                       char** error) {
  return guarded(error, [&] {
    const std::vector<int> pieces(ids, ids + count);
    std::string decoded;
    const auto status = model->processor.Decode(pieces, &decoded);
    if (!status.ok()) return fail(error, status.ToString());
    *size = decoded.size();
    *text = malloc_copy(decoded.data(), decoded.size());
    if (*text == nullptr && !decoded.empty())
      return fail(error, "out of memory for " + std::to_string(decoded.size()) + " bytes of text");
    return 0;
  });
}

int32_t mpitune_spm_vocab_size(const mpitune_spm_model* model) { return model->processor.GetPieceSize(); }
int32_t mpitune_spm_bos_id(const mpitune_spm_model* model) { return model->processor.bos_id(); }
int32_t mpitune_spm_eos_id(const mpitune_spm_model* model) { return model->processor.eos_id(); }
int32_t mpitune_spm_unk_id(const mpitune_spm_model* model) { return model->processor.unk_id(); }

int32_t mpitune_spm_piece_id(const mpitune_spm_model* model, const char* piece, size_t size) {
  try {
    const std::string_view wanted(piece, size);
    const int id = model->processor.PieceToId(wanted);
    // PieceToId answers unk for unknown pieces: only the unk piece itself may map to it.
    return id == model->processor.unk_id() && model->processor.IdToPiece(id) != wanted ? -1 : id;
  } catch (...) {
    return -1;  // PieceToId allocates nothing today; stay noexcept across the C boundary anyway
  }
}

void mpitune_spm_free(void* buffer) { std::free(buffer); }

}  // extern "C"
