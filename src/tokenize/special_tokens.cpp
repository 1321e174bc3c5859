// BOS / EOS / add_bos of a tokenizer folder (see special_tokens.hpp).
#include "special_tokens.hpp"

#include "json_file.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"

namespace mpitune {
namespace {

using tokenizer_json::json;

// tokenizer_config.json's bos_token / eos_token: "<s>", {"content": "<s>", ...}, or null.
bool token_text(const json& cfg, const char* key, std::string& out, const std::string& where) {
  const auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return false;
  if (it->is_string()) {
    out = it->get<std::string>();
    return true;
  }
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    out = (*it)["content"].get<std::string>();
    return true;
  }
  throw ConfigError("data.tokenizer", where + ": '" + key + "' is neither a string nor {\"content\": ...}");
}

// config.json's bos_token_id / eos_token_id: a number, a list of numbers, or null.
int32_t config_id(const json& cfg, const char* key) {
  const auto it = cfg.find(key);
  if (it == cfg.end()) return -1;
  if (it->is_number_integer()) return it->get<int32_t>();
  if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) return (*it)[0].get<int32_t>();
  return -1;
}

}  // namespace

SpecialTokens read_special_tokens(const std::string& dir, const SpecialTokenDefaults& d,
                                  std::vector<std::string>& files_read) {
  SpecialTokens st;
  st.bos = -1;
  st.eos = -1;
  bool add_bos_said = false;

  const std::string tc_path = dir + "/tokenizer_config.json";
  if (is_regular_file(tc_path)) {
    const json cfg = tokenizer_json::parse(tokenizer_json::read_bytes(tc_path), tc_path);
    files_read.push_back(tc_path);
    if (cfg.is_object()) {
      for (const char* key : {"bos_token", "eos_token"}) {
        std::string t;
        if (!token_text(cfg, key, t, tc_path)) continue;
        const int32_t id = d.id_of(t);
        if (id < 0)
          throw ConfigError("data.tokenizer", tc_path + ": " + key + " '" + t + "' is not a token of this tokenizer",
                            "fix tokenizer_config.json or use the folder's own tokenizer files");
        (key[0] == 'b' ? st.bos : st.eos) = id;
      }
      const auto it = cfg.find("add_bos_token");
      if (it != cfg.end() && it->is_boolean()) {
        st.add_bos = it->get<bool>();
        add_bos_said = true;
      }
    }
  }

  const std::string c_path = dir + "/config.json";
  if ((st.bos < 0 || st.eos < 0) && is_regular_file(c_path)) {
    const json cfg = tokenizer_json::parse(tokenizer_json::read_bytes(c_path), c_path);
    if (cfg.is_object()) {
      if (st.bos < 0) st.bos = config_id(cfg, "bos_token_id");
      if (st.eos < 0) st.eos = config_id(cfg, "eos_token_id");
    }
  }

  if (!add_bos_said && d.prepended >= 0) {
    st.add_bos = true;
    st.bos = d.prepended;  // the token the post-processor really puts first
  } else if (!add_bos_said) {
    st.add_bos = d.default_add_bos;
  }
  if (st.bos < 0) st.bos = d.default_bos;
  if (st.eos < 0) st.eos = d.default_eos;
  if (st.bos < 0) st.add_bos = false;  // nothing to add
  return st;
}

std::string fingerprint_text(const SpecialTokens& s) {
  return "bos=" + std::to_string(s.bos) + " eos=" + std::to_string(s.eos) + " add_bos=" + (s.add_bos ? "1" : "0");
}

}  // namespace mpitune
