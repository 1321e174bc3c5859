// Tokenizer: text <-> token ids, exactly as the model's own tokenizer does it.
//
// Kinds (load_tokenizer picks one from a folder):
//  - bytes: id = byte value, 256 ids, no special tokens (the scratch GPT's default).
//  - bpe: Hugging Face tokenizer.json with a BPE model and byte-level pre-tokenization (GPT-2,
//    Llama-3, Qwen2, SmolLM, BLOOM style), or GPT-2's vocab.json + merges.txt.
//  - sentencepiece: a SentencePiece tokenizer.model (Llama-2, TinyLlama, Mistral), through
//    Debian's libsentencepiece.
//
// encode() returns the ids of the text alone, as Hugging Face's `encode(text,
// add_special_tokens=False)` does: no BOS/EOS added, but special/added tokens written in the text
// ("<|endoftext|>") are recognised as their ids, as the reference implementation does. The data
// layer adds BOS (when add_bos()) and EOS around each document itself.
// (SentencePiece is the exception: "<s>" in the text is text, as spm_encode reads it.)
// Text that is not valid UTF-8 is repaired first (each bad sequence becomes U+FFFD).
// decode() returns the raw bytes the ids stand for (ids outside the vocabulary are skipped), so
// decode(encode(x)) == x for valid UTF-8 that the vocabulary covers.
// encode() and decode() are thread-safe: one tokenizer may serve many threads at once (the BPE
// word cache is shared, sharded and locked; see bpe_model.hpp).
// Reference tests: tests/tokenize/ (ids identical to the npm JavaScript tokenizers and to
// spm_encode on the fortunes corpus).
// No torch, no MPI here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mpitune {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;

  // Ids are in [0, vocab_size()): the embedding table needs at least this many rows.
  virtual int64_t vocab_size() const = 0;
  // -1 when the tokenizer has none.
  virtual int32_t bos_id() const { return -1; }
  virtual int32_t eos_id() const { return -1; }
  // Whether a document starts with BOS (tokenizer_config.json's add_bos_token, or a
  // post-processor that prepends it, as Llama-2 and Llama-3 do; GPT-2 does not).
  virtual bool add_bos() const { return false; }

  virtual std::string kind() const = 0;  // "bytes" | "bpe" | "sentencepiece"
  // One line for logs, /trials and the root attributes: kind, source and size,
  // e.g. "bpe (tokenizer.json in /models/SmolLM2-135M), 49152 ids".
  virtual std::string description() const = 0;
  // A stable hex hash of everything that decides the ids (the files' bytes, the kind): the
  // token cache of a corpus is keyed by it.
  virtual std::string fingerprint() const = 0;
  // The files that define this tokenizer (absolute paths), to copy next to an exported model;
  // empty for bytes.
  virtual std::vector<std::string> files() const { return {}; }
};

std::unique_ptr<Tokenizer> make_byte_tokenizer();

// [data] tokenizer resolved:
//  - "bytes": the byte tokenizer;
//  - "auto": the tokenizer of the model folder `model_dir` (bytes when model_dir is empty,
//    i.e. a scratch model);
//  - any other value: a folder holding tokenizer files.
// In a folder, the first that applies: tokenizer.json with a byte-level BPE model;
// vocab.json + merges.txt; tokenizer.model (SentencePiece). BOS/EOS come from
// tokenizer_config.json (bos_token / eos_token, a string or {"content": ...}) and, failing that,
// config.json (bos_token_id / eos_token_id). Throws ConfigError("data.tokenizer", ...) naming
// the folder, what was found and what is supported, when nothing applies or a file is malformed.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& spec, const std::string& model_dir);

}  // namespace mpitune
