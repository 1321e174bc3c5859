// tokenizer.json (the Hugging Face tokenizers library's format) -> a byte-level BPE tokenizer.
// Which components are supported and why: see normalizer.hpp, pre_tokenizer.hpp, bpe_model.hpp.
#include <stdexcept>

#include "bpe_tokenizer.hpp"
#include "json_file.hpp"
#include "loaders.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/tokenize/fingerprint.hpp"

namespace mpitune {
namespace {

using tokenizer_json::flag;
using tokenizer_json::json;
using tokenizer_json::text;
using tokenizer_json::type_of;

constexpr const char* kField = "data.tokenizer";

[[noreturn]] void unsupported(const std::string& where, const std::string& what, const std::string& supported) {
  throw ConfigError(kField, where + ": " + what + " is not supported", "supported: " + supported);
}

[[noreturn]] void malformed(const std::string& where, const std::string& problem) {
  throw ConfigError(kField, where + ": " + problem, "the file is damaged or was not written by the tokenizers library");
}

std::unique_ptr<Normalizer> parse_normalizer(const json& n, const std::string& where) {
  const std::string type = type_of(n, where);
  if (type.empty()) return nullptr;
  if (type == "NFC") return make_unicode_normalizer(UnicodeForm::NFC);
  if (type == "NFD") return make_unicode_normalizer(UnicodeForm::NFD);
  if (type == "NFKC") return make_unicode_normalizer(UnicodeForm::NFKC);
  if (type == "NFKD") return make_unicode_normalizer(UnicodeForm::NFKD);
  if (type == "Sequence") {
    const auto it = n.find("normalizers");
    if (it == n.end() || !it->is_array()) malformed(where, "a Sequence normalizer without a 'normalizers' list");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (const auto& step : *it)
      if (auto s = parse_normalizer(step, where)) steps.push_back(std::move(s));
    return make_sequence_normalizer(std::move(steps));
  }
  unsupported(where, "normalizer '" + type + "'", "NFC, NFD, NFKC, NFKD and Sequence of them");
}

SplitBehavior parse_behavior(const std::string& b, const std::string& where) {
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  unsupported(where, "Split behavior '" + b + "'", "Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const json& p, const std::string& where) {
  const std::string type = type_of(p, where);
  if (type.empty()) return nullptr;
  if (type == "ByteLevel")
    return make_byte_level_pre_tokenizer(flag(p, "add_prefix_space", true, where), flag(p, "use_regex", true, where));
  if (type == "Digits") return make_digits_pre_tokenizer(flag(p, "individual_digits", false, where));
  if (type == "Split") {
    const auto pat = p.find("pattern");
    if (pat == p.end() || !pat->is_object()) malformed(where, "a Split pre-tokenizer without a 'pattern' object");
    const std::string at = where + " (Split pattern)";
    std::string pcre2;
    if (pat->contains("Regex")) {
      const std::string onig = text(*pat, "Regex", "", at);
      try {
        pcre2 = onig_to_pcre2(onig);
      } catch (const std::invalid_argument& e) {
        unsupported(at, std::string("the Oniguruma construct ") + e.what() + " in '" + onig + "'",
                    "patterns without it (every published byte-level tokenizer has none)");
      }
    } else if (pat->contains("String")) {
      pcre2 = regex_escape(text(*pat, "String", "", at));
    } else {
      malformed(where, "a Split pattern that is neither {\"Regex\": ...} nor {\"String\": ...}");
    }
    return make_split_pre_tokenizer(Regex(pcre2, at), parse_behavior(text(p, "behavior", "", where), where),
                                    flag(p, "invert", false, where));
  }
  if (type == "Sequence") {
    const auto it = p.find("pretokenizers");
    if (it == p.end() || !it->is_array()) malformed(where, "a Sequence pre-tokenizer without a 'pretokenizers' list");
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (const auto& step : *it)
      if (auto s = parse_pre_tokenizer(step, where)) steps.push_back(std::move(s));
    return make_sequence_pre_tokenizer(std::move(steps));
  }
  unsupported(where, "pre-tokenizer '" + type + "'", "ByteLevel, Split, Digits and Sequence of them");
}

bool has_byte_level(const json& p) {
  if (!p.is_object()) return false;
  const auto type = p.find("type");
  if (type != p.end() && *type == "ByteLevel") return true;
  const auto steps = p.find("pretokenizers");
  if (steps != p.end() && steps->is_array())
    for (const auto& s : *steps)
      if (has_byte_level(s)) return true;
  return false;
}

BpeModel::Vocab parse_vocab(const json& model, const std::string& where) {
  const auto it = model.find("vocab");
  if (it == model.end() || !it->is_object()) malformed(where, "the BPE model has no 'vocab' object");
  BpeModel::Vocab vocab;
  vocab.reserve(it->size());
  for (const auto& [token, id] : it->items()) {
    if (!id.is_number_integer()) malformed(where, "the vocabulary id of '" + token + "' is not an integer");
    vocab.emplace(token, id.get<int32_t>());
  }
  return vocab;
}

// "a b" (older files) or ["a", "b"] (tokenizers >= 0.20).
BpeModel::Merges parse_merges(const json& model, const std::string& where) {
  BpeModel::Merges merges;
  const auto it = model.find("merges");
  if (it == model.end() || it->is_null()) return merges;
  if (!it->is_array()) malformed(where, "the BPE model's 'merges' is not a list");
  merges.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 >= s.size())
        malformed(where, "merge " + std::to_string(i + 1) + " ('" + s + "') is not two tokens separated by a space");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      malformed(where, "merge " + std::to_string(i + 1) + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return merges;
}

BpeOptions parse_options(const json& model, const std::string& where) {
  const auto dropout = model.find("dropout");
  if (dropout != model.end() && !dropout->is_null()) {
    if (!dropout->is_number()) malformed(where, "'dropout' is not a number");
    if (dropout->get<double>() > 0)
      unsupported(where, "BPE dropout (it makes ids random)", "dropout null or 0 (set it so in tokenizer.json)");
  }
  BpeOptions o;
  o.unk_token = text(model, "unk_token", "", where);
  o.fuse_unk = flag(model, "fuse_unk", false, where);
  o.byte_fallback = flag(model, "byte_fallback", false, where);
  o.ignore_merges = flag(model, "ignore_merges", false, where);
  o.continuing_subword_prefix = text(model, "continuing_subword_prefix", "", where);
  o.end_of_word_suffix = text(model, "end_of_word_suffix", "", where);
  return o;
}

std::vector<AddedToken> parse_added_tokens(const json& j, const std::string& where) {
  std::vector<AddedToken> tokens;
  const auto it = j.find("added_tokens");
  if (it == j.end() || it->is_null()) return tokens;
  if (!it->is_array()) malformed(where, "'added_tokens' is not a list");
  for (const auto& t : *it) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
        !t["content"].is_string())
      malformed(where, "an added token without an integer 'id' and a string 'content'");
    AddedToken a;
    a.id = t["id"].get<int32_t>();
    a.content = t["content"].get<std::string>();
    a.special = flag(t, "special", false, where);
    a.single_word = flag(t, "single_word", false, where);
    a.lstrip = flag(t, "lstrip", false, where);
    a.rstrip = flag(t, "rstrip", false, where);
    a.normalized = flag(t, "normalized", !a.special, where);
    if (a.id < 0) malformed(where, "added token '" + a.content + "' has a negative id");
    tokens.push_back(std::move(a));
  }
  return tokens;
}

// The id a post-processor puts in front of a single sequence, or -1 (ByteLevel, none).
int32_t prepended_id(const json& pp, const std::function<int32_t(const std::string&)>& id_of) {
  const std::string type = pp.is_object() && pp.contains("type") && pp["type"].is_string() ? pp["type"].get<std::string>() : "";
  if (type == "TemplateProcessing") {
    const auto single = pp.find("single");
    if (single == pp.end() || !single->is_array() || single->empty()) return -1;
    const json& first = (*single)[0];
    if (!first.is_object() || !first.contains("SpecialToken")) return -1;
    const json& st = first["SpecialToken"];
    if (!st.contains("id") || !st["id"].is_string()) return -1;
    const std::string name = st["id"].get<std::string>();
    const auto specials = pp.find("special_tokens");
    if (specials != pp.end() && specials->is_object() && specials->contains(name)) {
      const json& ids = (*specials)[name]["ids"];
      if (ids.is_array() && !ids.empty() && ids[0].is_number_integer()) return ids[0].get<int32_t>();
    }
    return id_of(name);
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    const auto cls = pp.find("cls");
    if (cls != pp.end() && cls->is_array() && cls->size() == 2 && (*cls)[1].is_number_integer())
      return (*cls)[1].get<int32_t>();
    return -1;
  }
  if (type == "Sequence") {
    const auto steps = pp.find("processors");
    if (steps != pp.end() && steps->is_array())
      for (const auto& s : *steps) {
        const int32_t id = prepended_id(s, id_of);
        if (id >= 0) return id;
      }
  }
  return -1;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& dir_in, std::string& why) {
  const std::string dir = absolute_dir(dir_in);
  const std::string path = dir + "/tokenizer.json";
  const std::string bytes = tokenizer_json::read_bytes(path);
  const json j = tokenizer_json::parse(bytes, path);
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    malformed(path, "no 'model' object (is this a tokenizers library tokenizer.json?)");
  const json& model = j["model"];
  // Files written by old versions may lack the model's "type"; the library then infers BPE from
  // the presence of merges.
  std::string model_type = text(model, "type", "", path);
  if (model_type.empty() && model.contains("merges")) model_type = "BPE";
  const json pre = j.value("pre_tokenizer", json());
  if (model_type != "BPE") {
    why = "a " + (model_type.empty() ? std::string("model of unknown type") : model_type + " model");
    return nullptr;
  }
  if (!has_byte_level(pre)) {
    const std::string pre_type = pre.is_object() ? pre.value("type", std::string("?")) : std::string("none");
    why = "a BPE model without byte-level pre-tokenization (pre_tokenizer " + pre_type +
          ": SentencePiece-style, which needs its tokenizer.model)";
    return nullptr;
  }

  BpeParts parts;
  parts.normalizer = parse_normalizer(j.value("normalizer", json()), path + " normalizer");
  parts.pre_tokenizer = parse_pre_tokenizer(pre, path + " pre_tokenizer");
  parts.model = std::make_unique<BpeModel>(parse_vocab(model, path), parse_merges(model, path),
                                           parse_options(model, path), path);
  parts.added_tokens = parse_added_tokens(j, path);

  const BpeModel& m = *parts.model;
  const std::vector<AddedToken>& added = parts.added_tokens;
  auto id_of = [&m, &added](const std::string& t) -> int32_t {
    for (const auto& a : added)
      if (a.content == t) return a.id;
    return m.id_of(t);
  };
  SpecialTokenDefaults d;
  d.id_of = id_of;
  d.prepended = prepended_id(j.value("post_processor", json()), id_of);
  std::vector<std::string> config_files;
  parts.special = read_special_tokens(dir, d, config_files);

  parts.source = "tokenizer.json in " + dir;
  parts.files.push_back(path);
  for (const auto& f : config_files) parts.files.push_back(f);
  if (is_regular_file(dir + "/special_tokens_map.json")) parts.files.push_back(dir + "/special_tokens_map.json");
  parts.fingerprint = Fingerprint()
                          .add("mpitune-tokenizer-v1")
                          .add("bpe")
                          .add("tokenizer.json")
                          .add(bytes)
                          .add(fingerprint_text(parts.special))
                          .hex();
  return make_bpe_tokenizer(std::move(parts));
}

}  // namespace mpitune
