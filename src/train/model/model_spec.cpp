// ModelSpec from a trial's config and a model folder's config.json (see model_spec.hpp).
#include "mpitune/train/model_spec.hpp"

#include <algorithm>
#include <sstream>

#include "mpitune/core/error.hpp"

namespace mpitune {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    cur = trim(cur);
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
  };
  for (char ch : s) {
    if (ch == ',') flush();
    else cur += ch;
  }
  flush();
  return out;
}

bool matches(const LinearSite& site, const std::string& name) {
  const std::string& m = site.module;
  return m == name || (m.size() > name.size() && m.compare(m.size() - name.size(), name.size(), name) == 0 &&
                       m[m.size() - name.size() - 1] == '.');
}

ModelSpec scratch_spec(const ExperimentConfig& c, int64_t tokenizer_vocab) {
  const ModelOptions& m = c.model;
  ModelSpec s;
  s.family = m.architecture == "llama" ? ArchFamily::Llama : ArchFamily::Gpt2;
  s.n_layer = m.n_layer;
  s.n_head = m.n_head;
  s.n_kv_head = m.n_kv_head > 0 ? m.n_kv_head : m.n_head;
  if (s.family == ArchFamily::Gpt2 && s.n_kv_head != s.n_head)
    throw ConfigError("model.n_kv_head", "grouped-query attention needs architecture = llama",
                      "remove n_kv_head or set model.architecture = llama");
  if (m.d_model % m.n_head != 0)
    throw ConfigError("model.n_head", std::to_string(m.n_head) + " does not divide d_model = " + std::to_string(m.d_model),
                      "pick n_head so that d_model / n_head is a whole number");
  s.d_model = m.d_model;
  s.head_dim = m.d_model / m.n_head;
  if (m.d_ff > 0) s.d_ff = m.d_ff;
  else if (s.family == ArchFamily::Gpt2) s.d_ff = 4 * m.d_model;
  else s.d_ff = (8 * int64_t(m.d_model) / 3 + 63) / 64 * 64;  // SwiGLU's 2/3 of 4 d, rounded as Llama does
  s.vocab = m.vocab_size > 0 ? m.vocab_size : tokenizer_vocab;
  if (s.vocab < tokenizer_vocab)
    throw ConfigError("model.vocab_size",
                      std::to_string(s.vocab) + " is smaller than the tokenizer's " + std::to_string(tokenizer_vocab) + " ids",
                      "remove vocab_size (0 takes the tokenizer's) or raise it");
  s.seq_len = m.seq_len;
  s.max_positions = m.seq_len;
  s.norm_eps = 1e-5;
  s.rope_theta = 10000;
  s.tied = true;
  const bool gpt2 = s.family == ArchFamily::Gpt2;
  s.qkv_bias = s.o_bias = s.mlp_bias = gpt2;
  s.gelu_tanh = true;
  return s;
}

ModelSpec pretrained_spec(const ExperimentConfig& c, const HfModelConfig& hf, int64_t tokenizer_vocab) {
  ModelSpec s;
  s.family = hf.family;
  s.n_layer = hf.n_layer;
  s.n_head = hf.n_head;
  s.n_kv_head = hf.n_kv_head;
  s.head_dim = hf.head_dim;
  s.d_model = hf.hidden_size;
  s.d_ff = hf.intermediate_size;
  s.vocab = hf.vocab_size;
  s.max_positions = hf.max_positions;
  s.seq_len = c.model.seq_len;
  s.norm_eps = hf.norm_eps;
  s.rope_theta = hf.rope_theta;
  s.tied = hf.tie_word_embeddings;
  const bool gpt2 = s.family == ArchFamily::Gpt2;
  s.qkv_bias = gpt2 || hf.qkv_bias;
  s.o_bias = gpt2 || hf.o_bias;
  s.mlp_bias = gpt2 || hf.mlp_bias;
  s.gelu_tanh = hf.gelu_tanh;
  s.pretrained = true;
  s.path = hf.dir;
  if (gpt2 && s.seq_len > s.max_positions)
    throw ConfigError("model.seq_len",
                      std::to_string(s.seq_len) + " is longer than the model's " + std::to_string(s.max_positions) +
                          " positions (n_positions in " + hf.dir + "/config.json)",
                      "use seq_len <= " + std::to_string(s.max_positions));
  if (hf.sliding_window > 0 && s.seq_len > hf.sliding_window)
    throw ConfigError("model.seq_len",
                      std::to_string(s.seq_len) + " is longer than the model's sliding_window of " +
                          std::to_string(hf.sliding_window) + ", which mpitune does not implement",
                      "use seq_len <= " + std::to_string(hf.sliding_window));
  if (tokenizer_vocab > s.vocab)
    throw ConfigError("data.tokenizer",
                      "gives ids up to " + std::to_string(tokenizer_vocab - 1) + " but the model has vocab_size " +
                          std::to_string(s.vocab),
                      "use the model's own tokenizer (data.tokenizer = auto)");
  return s;
}

}  // namespace

std::vector<LinearSite> ModelSpec::linears() const {
  const int64_t d = d_model, q = n_head * head_dim, kv = n_kv_head * head_dim;
  if (family == ArchFamily::Gpt2)
    return {{"attn.c_attn", "c_attn", d, 3 * d, true},
            {"attn.c_proj", "attn.c_proj", d, d, true},
            {"mlp.c_fc", "c_fc", d, d_ff, false},
            {"mlp.c_proj", "mlp.c_proj", d_ff, d, false}};
  return {{"self_attn.q_proj", "q_proj", d, q, true},     {"self_attn.k_proj", "k_proj", d, kv, true},
          {"self_attn.v_proj", "v_proj", d, kv, true},     {"self_attn.o_proj", "o_proj", q, d, true},
          {"mlp.gate_proj", "gate_proj", d, d_ff, false}, {"mlp.up_proj", "up_proj", d, d_ff, false},
          {"mlp.down_proj", "down_proj", d_ff, d, false}};
}

std::vector<std::string> resolve_lora_targets(const std::string& targets, const std::vector<LinearSite>& sites,
                                              ArchFamily family) {
  std::vector<bool> chosen(sites.size(), false);
  const std::string t = trim(targets);
  if (t == "attention" || t == "mlp" || t == "all-linear") {
    for (size_t i = 0; i < sites.size(); ++i)
      chosen[i] = t == "all-linear" || (t == "attention") == sites[i].attention;
  } else {
    for (const auto& name : split_list(t)) {
      bool any = false;
      for (size_t i = 0; i < sites.size(); ++i)
        if (matches(sites[i], name)) chosen[i] = any = true;
      if (!any) {
        std::string known;
        for (const auto& s : sites) known += (known.empty() ? "" : ", ") + s.short_name;
        throw ConfigError("lora.targets", "'" + name + "' names no linear layer of a " + arch_family_name(family) + " block",
                          "use attention, mlp, all-linear or some of: " + known);
      }
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < sites.size(); ++i)
    if (chosen[i]) out.push_back(sites[i].module);
  return out;
}

ModelSpec ModelSpec::from_config(const ExperimentConfig& c, const HfModelConfig* hf, int64_t tokenizer_vocab) {
  ModelSpec s;
  if (c.model.init == "pretrained") {
    MPITUNE_CHECK(hf != nullptr, "a pretrained model needs its config.json");
    s = pretrained_spec(c, *hf, tokenizer_vocab);
  } else {
    s = scratch_spec(c, tokenizer_vocab);
  }
  if (c.lora.rank > 0) {
    s.lora.rank = c.lora.rank;
    s.lora.alpha = c.lora.alpha;
    s.lora.dropout = c.lora.dropout;
    s.lora.modules = resolve_lora_targets(c.lora.targets, s.linears(), s.family);
    for (const auto& site : s.linears())
      if (std::find(s.lora.modules.begin(), s.lora.modules.end(), site.module) != s.lora.modules.end() &&
          s.lora.rank > std::min(site.in, site.out))
        throw ConfigError("lora.rank",
                          std::to_string(s.lora.rank) + " exceeds the size of " + site.module + " (" +
                              std::to_string(site.in) + " x " + std::to_string(site.out) + ")",
                          "use a rank below " + std::to_string(std::min(site.in, site.out)));
  }
  return s;
}

std::string ModelSpec::shape_text() const {
  std::ostringstream o;
  o << arch_family_name(family) << " n_layer " << n_layer << " n_head " << n_head << " n_kv_head " << n_kv_head
    << " head_dim " << head_dim << " d_model " << d_model << " d_ff " << d_ff << " vocab " << vocab << " positions "
    << (family == ArchFamily::Gpt2 ? max_positions : 0) << (tied ? " tied" : " untied") << " bias " << qkv_bias
    << o_bias << mlp_bias;
  if (lora.rank > 0) {
    o << " lora " << lora.rank;
    for (const auto& m : lora.modules) o << " " << m;
  }
  return o.str();
}

}  // namespace mpitune
