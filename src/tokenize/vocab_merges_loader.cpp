// GPT-2's original files, vocab.json + merges.txt -> a byte-level BPE tokenizer: GPT-2's split
// pattern and byte-level alphabet (ByteLevel, no prefix space), no normalizer, the merges in
// file order. "<|endoftext|>" is GPT-2's BOS and EOS and, like any special token named by
// tokenizer_config.json, is recognised as one token when written in the text (as the slow
// GPT2Tokenizer of transformers does).
#include "bpe_tokenizer.hpp"
#include "json_file.hpp"
#include "loaders.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/tokenize/fingerprint.hpp"

namespace mpitune {
namespace {

constexpr const char* kField = "data.tokenizer";
constexpr const char* kEndOfText = "<|endoftext|>";

BpeModel::Vocab parse_vocab(const std::string& bytes, const std::string& path) {
  const tokenizer_json::json j = tokenizer_json::parse(bytes, path);
  if (!j.is_object()) throw ConfigError(kField, path + ": not a JSON object of token -> id", "is this GPT-2's vocab.json?");
  BpeModel::Vocab vocab;
  vocab.reserve(j.size());
  for (const auto& [token, id] : j.items()) {
    if (!id.is_number_integer())
      throw ConfigError(kField, path + ": the id of '" + token + "' is not an integer", "is this GPT-2's vocab.json?");
    vocab.emplace(token, id.get<int32_t>());
  }
  return vocab;
}

// One merge per line, "a b"; a first line "#version: 0.2" and blank lines are skipped.
BpeModel::Merges parse_merges(const std::string& bytes, const std::string& path) {
  BpeModel::Merges merges;
  size_t pos = 0;
  int line_no = 0;
  while (pos < bytes.size()) {
    size_t eol = bytes.find('\n', pos);
    if (eol == std::string::npos) eol = bytes.size();
    std::string line = bytes.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      throw ConfigError(kField, path + ": line " + std::to_string(line_no) + " ('" + line + "') is not two tokens separated by one space",
                        "is this GPT-2's merges.txt?");
    merges.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return merges;
}

}  // namespace

std::unique_ptr<Tokenizer> load_vocab_merges(const std::string& dir_in) {
  const std::string dir = absolute_dir(dir_in);
  const std::string vocab_path = dir + "/vocab.json";
  const std::string merges_path = dir + "/merges.txt";
  const std::string vocab_bytes = tokenizer_json::read_bytes(vocab_path);
  const std::string merges_bytes = tokenizer_json::read_bytes(merges_path);

  BpeParts parts;
  parts.pre_tokenizer = make_byte_level_pre_tokenizer(/*add_prefix_space=*/false, /*use_regex=*/true);
  parts.model = std::make_unique<BpeModel>(parse_vocab(vocab_bytes, vocab_path), parse_merges(merges_bytes, merges_path),
                                           BpeOptions{}, vocab_path + " + merges.txt");
  const BpeModel& m = *parts.model;

  SpecialTokenDefaults d;
  d.id_of = [&m](const std::string& t) { return m.id_of(t); };
  d.default_bos = d.default_eos = m.id_of(kEndOfText);
  std::vector<std::string> config_files;
  parts.special = read_special_tokens(dir, d, config_files);

  // The special tokens are matched in the text as whole tokens.
  for (int32_t id : {m.id_of(kEndOfText), parts.special.bos, parts.special.eos}) {
    const std::string* content = m.token_of(id);
    if (!content) continue;
    bool known = false;
    for (const auto& a : parts.added_tokens) known = known || a.id == id;
    if (known) continue;
    AddedToken t;
    t.content = *content;
    t.id = id;
    t.special = true;
    parts.added_tokens.push_back(std::move(t));
  }

  parts.source = "vocab.json + merges.txt in " + dir;
  parts.files = {vocab_path, merges_path};
  for (const auto& f : config_files) parts.files.push_back(f);
  if (is_regular_file(dir + "/special_tokens_map.json")) parts.files.push_back(dir + "/special_tokens_map.json");
  parts.fingerprint = Fingerprint()
                          .add("mpitune-tokenizer-v1")
                          .add("bpe")
                          .add("vocab.json")
                          .add(vocab_bytes)
                          .add("merges.txt")
                          .add(merges_bytes)
                          .add(fingerprint_text(parts.special))
                          .hex();
  return make_bpe_tokenizer(std::move(parts));
}

}  // namespace mpitune
