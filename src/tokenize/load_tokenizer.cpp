// load_tokenizer: [data] tokenizer -> a tokenizer, trying a folder's files in the order the
// header gives (tokenizer.json only when it is byte-level BPE; then vocab.json + merges.txt;
// then tokenizer.model).
#include <filesystem>

#include "loaders.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/tokenize/tokenizer.hpp"

namespace mpitune {
namespace {

constexpr const char* kField = "data.tokenizer";
constexpr const char* kSupported =
    "supported: tokenizer.json with a byte-level BPE model (GPT-2, Llama-3, Qwen2, SmolLM, BLOOM), "
    "vocab.json + merges.txt (GPT-2), or tokenizer.model (SentencePiece: Llama-2, TinyLlama, Mistral)";

}  // namespace

std::string absolute_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(dir, ec);
  if (ec) p = dir;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& spec, const std::string& model_dir) {
  if (spec == "bytes") return make_byte_tokenizer();
  if (spec.empty()) throw ConfigError(kField, "is empty", "use bytes, auto (the model's own) or a folder with tokenizer files");
  std::string dir = spec;
  if (spec == "auto") {
    if (model_dir.empty()) return make_byte_tokenizer();  // a scratch model
    dir = model_dir;
  }
  if (!file_exists(dir))
    throw ConfigError(kField, "'" + dir + "' does not exist",
                      "give bytes, auto (the model folder's tokenizer) or a folder with tokenizer files");
  if (!is_directory(dir))
    throw ConfigError(kField, "'" + dir + "' is a file, not a folder", "give the folder that holds the tokenizer files");
  dir = absolute_dir(dir);

  std::string found;
  auto note = [&found](const std::string& what) { found += (found.empty() ? "" : "; ") + what; };

  if (is_regular_file(dir + "/tokenizer.json")) {
    std::string why;
    if (auto t = load_tokenizer_json(dir, why)) return t;
    note("tokenizer.json with " + why);
  }
  const bool vocab = is_regular_file(dir + "/vocab.json");
  const bool merges = is_regular_file(dir + "/merges.txt");
  if (vocab && merges) return load_vocab_merges(dir);
  if (vocab) note("vocab.json without merges.txt");
  if (merges) note("merges.txt without vocab.json");
  if (is_regular_file(dir + "/tokenizer.model")) return load_sentencepiece(dir);
  throw ConfigError(kField, dir + " has no tokenizer mpitune can read (found: " + (found.empty() ? "no tokenizer files" : found) + ")",
                    kSupported);
}

}  // namespace mpitune
