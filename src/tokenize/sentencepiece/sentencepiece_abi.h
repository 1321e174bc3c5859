// The C interface between mpitune_tokenize and the mpitune_sentencepiece module.
//
// Why a module: Debian's libsentencepiece carries its own copy of protobuf and exports all of its
// symbols. Linked into a process that also has libtorch's libprotobuf.so.32, the two copies bind
// to each other's functions and the process crashes during static initialisation. So only the
// module (module/sentencepiece_module.cpp) links libsentencepiece, and mpitune_tokenize dlopens it
// with RTLD_LOCAL | RTLD_DEEPBIND (sentencepiece_module.cpp): its protobuf never enters the global
// symbol scope and its own references bind inside it.
//
// Only C types cross this boundary: an opaque model handle, byte buffers and int32 ids, so the two
// sides share no C++ object layout and no exception crosses it. Functions that can fail return 0
// on success and -1 on failure, with *error set to a NUL-terminated message (NULL when even that
// could not be allocated). Every buffer the module hands out (ids, text, error) is released with
// mpitune_spm_free. A loaded model is immutable: encode, decode and the id queries may be called
// from many threads at once.
#pragma once

#include <stddef.h>
#include <stdint.h>

// Bumped whenever a signature or a meaning below changes; the loader refuses any other version.
#define MPITUNE_SPM_API_VERSION 1u

#define MPITUNE_SPM_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mpitune_spm_model mpitune_spm_model;

MPITUNE_SPM_EXPORT uint32_t mpitune_spm_api_version(void);

// A model from the bytes of a tokenizer.model file (a serialized SentencePiece ModelProto).
MPITUNE_SPM_EXPORT int mpitune_spm_load(const char* model_bytes, size_t size, mpitune_spm_model** model,
                                        char** error);
MPITUNE_SPM_EXPORT void mpitune_spm_close(mpitune_spm_model* model);

// The ids of `text` (no BOS/EOS added, as spm_encode); *ids is NULL when *count is 0.
MPITUNE_SPM_EXPORT int mpitune_spm_encode(const mpitune_spm_model* model, const char* text, size_t size,
                                          int32_t** ids, size_t* count, char** error);
// The text of `ids`, which must all be in [0, vocab size); *text is NULL when *size is 0.
MPITUNE_SPM_EXPORT int mpitune_spm_decode(const mpitune_spm_model* model, const int32_t* ids, size_t count,
                                          char** text, size_t* size, char** error);

MPITUNE_SPM_EXPORT int32_t mpitune_spm_vocab_size(const mpitune_spm_model* model);
// -1 when the model has none (SentencePiece's own convention).
MPITUNE_SPM_EXPORT int32_t mpitune_spm_bos_id(const mpitune_spm_model* model);
MPITUNE_SPM_EXPORT int32_t mpitune_spm_eos_id(const mpitune_spm_model* model);
MPITUNE_SPM_EXPORT int32_t mpitune_spm_unk_id(const mpitune_spm_model* model);
// The id of a piece of the vocabulary, -1 when the vocabulary has no such piece (unlike
// SentencePiece's PieceToId, which answers the unk id then).
MPITUNE_SPM_EXPORT int32_t mpitune_spm_piece_id(const mpitune_spm_model* model, const char* piece, size_t size);

MPITUNE_SPM_EXPORT void mpitune_spm_free(void* buffer);

#ifdef __cplusplus
}
#endif
