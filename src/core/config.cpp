// Parsing of the experiment INI into typed options. Each section is a table of fields
// (key -> parser); the table is also the list of known keys for "unknown key" errors.
#include "mpitune/core/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "mpitune/core/error.hpp"
#include "mpitune/search/searcher.hpp"

namespace mpitune {
namespace {

// Edit distance, for "did you mean" hints on misspelt keys.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string suggestion(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = 3;  // only close matches
  for (const auto& k : known) {
    const size_t d = edit_distance(word, k);
    if (d < best_d) best_d = d, best = k;
  }
  if (!best.empty()) return "did you mean '" + best + "'?";
  std::string all;
  for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
  return "known: " + all;
}

double parse_double(const std::string& field, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || errno != 0 || *end != '\0' || !std::isfinite(d))
    throw ConfigError(field, "'" + v + "' is not a number", "write a decimal such as 0.001 or 1e-3");
  return d;
}

int64_t parse_int(const std::string& field, const std::string& v) {
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || errno != 0 || *end != '\0') {
    // Accept integral decimals such as "16.0" or "1e3" (values printed by the searchers).
    char* end2 = nullptr;
    const double d = std::strtod(v.c_str(), &end2);
    if (!v.empty() && *end2 == '\0' && std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15)
      return static_cast<int64_t>(d);
    throw ConfigError(field, "'" + v + "' is not an integer", "write a whole number such as 16");
  }
  return i;
}

using Setter = std::function<void(const std::string& field, const std::string& value)>;
using FieldTable = std::vector<std::pair<std::string, Setter>>;

Setter str_field(std::string& out) {
  return [&out](const std::string&, const std::string& v) { out = v; };
}

Setter choice_field(std::string& out, std::vector<std::string> allowed) {
  return [&out, allowed](const std::string& field, const std::string& v) {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw ConfigError(field, "'" + v + "' is not one of " + list, "pick one of them");
    }
    out = v;
  };
}

template <typename Int>
Setter int_field(Int& out, int64_t lo, int64_t hi = std::numeric_limits<int32_t>::max()) {
  return [&out, lo, hi](const std::string& field, const std::string& v) {
    const int64_t i = parse_int(field, v);
    if (i < lo || i > hi)
      throw ConfigError(field, std::to_string(i) + " is out of range",
                        "use a value in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    out = static_cast<Int>(i);
  };
}

// lo_open: the lower bound itself is not allowed.
Setter real_field(double& out, double lo, double hi, bool lo_open = false) {
  return [&out, lo, hi, lo_open](const std::string& field, const std::string& v) {
    const double d = parse_double(field, v);
    if ((lo_open ? d <= lo : d < lo) || d > hi) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "use a value in %s%g, %g]", lo_open ? "(" : "[", lo, hi);
      throw ConfigError(field, v + " is out of range", buf);
    }
    out = d;
  };
}

Setter bool_field(bool& out) {
  return [&out](const std::string& field, const std::string& v) {
    if (v == "true" || v == "yes" || v == "1") out = true;
    else if (v == "false" || v == "no" || v == "0") out = false;
    else throw ConfigError(field, "'" + v + "' is not a boolean", "write true or false");
  };
}

Setter int_list_field(std::vector<int64_t>& out) {
  return [&out](const std::string& field, const std::string& v) {
    out.clear();
    size_t pos = 0;
    while (pos <= v.size()) {
      const size_t comma = v.find(',', pos);
      const std::string item = trim(v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
      if (!item.empty()) out.push_back(parse_int(field, item));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  };
}

// A comma-separated list of numbers, each > lo.
Setter real_list_field(std::vector<double>& out, double lo) {
  return [&out, lo](const std::string& field, const std::string& v) {
    out.clear();
    size_t pos = 0;
    while (pos <= v.size()) {
      const size_t comma = v.find(',', pos);
      const std::string item = trim(v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
      const double d = parse_double(field, item);
      if (d <= lo)
        throw ConfigError(field, item + " is out of range", "every value must be above " + std::to_string(lo));
      out.push_back(d);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (out.empty()) throw ConfigError(field, "is empty", "give at least one value, e.g. 0.8, 1.2");
  };
}

constexpr double kInf = std::numeric_limits<double>::infinity();

// "{cache}" in a path: mpitune's cache folder (mpitune_cache_dir()).
std::string expand_cache_dir(std::string v) {
  const std::string tag = "{cache}";
  for (size_t p = v.find(tag); p != std::string::npos; p = v.find(tag, p)) {
    const std::string dir = mpitune_cache_dir();
    v.replace(p, tag.size(), dir);
    p += dir.size();
  }
  return v;
}

struct Tables {
  std::map<std::string, FieldTable> sections;
};

// The field tables of every section except [space], bound to `c`.
Tables make_tables(ExperimentConfig& c) {
  Tables t;
  auto& e = c.experiment;
  t.sections["experiment"] = {
      {"name", [&e](const std::string& f, const std::string& v) {
         if (v.empty() || v.find('/') != std::string::npos)
           throw ConfigError(f, "'" + v + "' is not a valid name", "use letters, digits, '-' and '_'");
         e.name = v;
       }},
      {"seed", [&e](const std::string& f, const std::string& v) {
         const int64_t s = parse_int(f, v);
         if (s < 0) throw ConfigError(f, "must not be negative", "use a seed >= 0");
         e.seed = static_cast<uint64_t>(s);
       }},
      {"metric", choice_field(e.metric, {"eval_loss", "train_loss"})},
      {"mode", [&e](const std::string& f, const std::string& v) {
         if (v == "min") e.mode = Mode::Min;
         else if (v == "max") e.mode = Mode::Max;
         else throw ConfigError(f, "'" + v + "' is not min or max", "write mode = min (lower is better) or max");
       }},
      {"max_trials", int_field(e.max_trials, 1, 10000000)},
      {"output", [&e](const std::string& f, const std::string& v) {
         if (v.empty()) throw ConfigError(f, "is empty", "give a path such as results/{name}.h5");
         e.output = v;
       }},
      {"overwrite", bool_field(e.overwrite)},
      {"group_size", int_field(e.group_size, 1, 4096)},
      {"groups_span_nodes", bool_field(e.groups_span_nodes)},
      {"trainable", choice_field(e.trainable, {"gpt", "synthetic"})},
      {"time_budget_s", real_field(e.time_budget_s, 0, kInf)},
      {"status_interval_s", real_field(e.status_interval_s, 0, kInf, true)},
      {"deterministic", bool_field(e.deterministic)},
      {"checkpoint_dir", [&e](const std::string& f, const std::string& v) {
         if (v.empty()) throw ConfigError(f, "is empty", "give a folder such as {output}.ckpt");
         e.checkpoint_dir = v;
       }},
      {"keep", choice_field(e.keep, {"best", "all", "none"})},
      {"final_retrain", bool_field(e.final_retrain)},
      {"final_seed", [&e](const std::string& f, const std::string& v) {
         const int64_t s = parse_int(f, v);
         if (s < 0) throw ConfigError(f, "must not be negative", "use a seed >= 0");
         e.final_seed = static_cast<uint64_t>(s);
       }},
      {"final_eval_bootstrap", int_field(e.final_eval_bootstrap, 0, 1000000)},
      {"resume", [&e](const std::string& f, const std::string& v) {
         if (v == "auto" || v == "true" || v == "false") {
           e.resume = v;
           return;
         }
         if (v == "yes" || v == "on" || v == "1") e.resume = "true";
         else if (v == "no" || v == "off" || v == "0") e.resume = "false";
         else throw ConfigError(f, "'" + v + "' is not auto, true or false",
                                "write resume = auto (continue an interrupted experiment), true or false");
       }},
      {"heartbeat_timeout_s", real_field(e.heartbeat_timeout_s, 0, kInf)},
      {"checkpoint_interval_s", real_field(e.checkpoint_interval_s, 0, kInf)},
      {"max_failures_per_trial", int_field(e.max_failures_per_trial, 0, 1000)},
      {"export_dir", [&e](const std::string& f, const std::string& v) {
         if (v.empty()) throw ConfigError(f, "is empty", "give a folder such as {output}.best, or none");
         e.export_dir = v;
       }},
  };
  auto& se = c.search;
  t.sections["search"] = {
      {"type", choice_field(se.type, {"random", "grid", "bohb"})},
      {"initial_configs", str_field(se.initial_configs_text)},
      {"min_points_in_model", int_field(se.min_points_in_model, 0, 1000000)},
      {"top_n_percent", int_field(se.top_n_percent, 1, 99)},
      {"num_samples", int_field(se.num_samples, 1, 1000000)},
      {"random_fraction", real_field(se.random_fraction, 0, 1)},
      {"bandwidth_factor", real_field(se.bandwidth_factor, 0, 1000, true)},
      {"min_bandwidth", real_field(se.min_bandwidth, 0, 1, true)},
  };
  auto& s = c.scheduler;
  t.sections["scheduler"] = {
      {"type", choice_field(s.type, {"asha", "fifo", "hyperband", "pbt"})},
      {"max_t", int_field(s.max_t, 1, 1000000000)},
      {"grace_period", int_field(s.grace_period, 1, 1000000000)},
      {"reduction_factor", real_field(s.reduction_factor, 1, 1000, true)},
      {"asha_rule", choice_field(s.asha_rule, {"topk", "percentile"})},
      {"min_t", int_field(s.min_t, 1, 1000000000)},
      {"iterations", int_field(s.iterations, 1, 100000)},
      {"population", int_field(s.population, 2, 1000000)},
      {"perturbation_interval", int_field(s.perturbation_interval, 1, 1000000000)},
      {"quantile_fraction", real_field(s.quantile_fraction, 0, 0.5)},
      {"resample_probability", real_field(s.resample_probability, 0, 1)},
      {"perturbation_factors", real_list_field(s.perturbation_factors, 0)},
      {"burn_in", int_field(s.burn_in, 0, 1000000000)},
      {"synchronous", bool_field(s.synchronous)},
      {"pbt_host_cache_mb", real_field(s.pbt_host_cache_mb, 0, 1e9)},
  };
  auto& m = c.model;
  t.sections["model"] = {
      {"init", choice_field(m.init, {"scratch", "pretrained"})},
      {"path", [&m](const std::string& f, const std::string& v) { m.path = expand_cache_dir(v); }},
      {"architecture", choice_field(m.architecture, {"gpt2", "llama"})},
      {"n_layer", int_field(m.n_layer, 1, 1024)},
      {"n_head", int_field(m.n_head, 1, 1024)},
      {"n_kv_head", int_field(m.n_kv_head, 0, 1024)},
      {"d_model", int_field(m.d_model, 1, 65536)},
      {"d_ff", int_field(m.d_ff, 0, 1 << 20)},
      {"seq_len", int_field(m.seq_len, 2, 1 << 20)},
      {"vocab_size", int_field(m.vocab_size, 0, 1 << 24)},
  };
  auto& d = c.data;
  t.sections["data"] = {
      {"corpus", str_field(d.corpus)},
      {"tokenizer", [&d](const std::string& f, const std::string& v) {
         if (v.empty()) throw ConfigError(f, "is empty", "write auto, bytes or a folder with tokenizer files");
         d.tokenizer = v;
       }},
      {"val_corpus", str_field(d.val_corpus)},
      {"test_corpus", str_field(d.test_corpus)},
      {"val_fraction", real_field(d.val_fraction, 0, 0.9, true)},
      {"test_fraction", real_field(d.test_fraction, 0, 0.9)},
      {"split_seed", [&d](const std::string& f, const std::string& v) {
         const int64_t s = parse_int(f, v);
         if (s < 0) throw ConfigError(f, "must not be negative", "use a seed >= 0");
         d.split_seed = static_cast<uint64_t>(s);
       }},
      {"document_separator", str_field(d.document_separator)},
      {"extensions", str_field(d.extensions)},
      {"text_field", str_field(d.text_field)},
      {"prompt_field", str_field(d.prompt_field)},
      {"completion_field", str_field(d.completion_field)},
      {"exclude", str_field(d.exclude)},
      {"retention_corpus", str_field(d.retention_corpus)},
      {"cache_dir", str_field(d.cache_dir)},
      {"eval_batches", int_field(d.eval_batches, 1, 100000)},
  };
  auto& lo = c.lora;
  t.sections["lora"] = {
      {"rank", int_field(lo.rank, 0, 65536)},
      {"alpha", real_field(lo.alpha, 0, 1e6, true)},
      {"dropout", real_field(lo.dropout, 0, 1)},
      {"targets", [&lo](const std::string& f, const std::string& v) {
         if (v.empty())
           throw ConfigError(f, "is empty", "write attention, mlp, all-linear or a list such as q_proj, v_proj");
         lo.targets = v;
       }},
  };
  auto& tr = c.train;
  t.sections["train"] = {
      {"device", choice_field(tr.device, {"auto", "cpu", "cuda"})},
      {"precision", choice_field(tr.precision, {"fp32", "bf16", "fp16"})},
      {"batch_size", int_field(tr.batch_size, 1, 1 << 24)},
      {"accumulation", int_field(tr.accumulation, 1, 1 << 20)},
      {"lr", real_field(tr.lr, 0, 10, true)},
      {"weight_decay", real_field(tr.weight_decay, 0, 10)},
      {"warmup_steps", int_field(tr.warmup_steps, 0, 1000000000)},
      {"min_lr_ratio", real_field(tr.min_lr_ratio, 0, 1)},
      {"grad_clip", real_field(tr.grad_clip, 0, kInf)},
      {"beta1", real_field(tr.beta1, 0, 1)},
      {"beta2", real_field(tr.beta2, 0, 1)},
      {"eps", real_field(tr.eps, 0, 1, true)},
      {"eval_interval", int_field(tr.eval_interval, 0, 1000000000)},
      {"log_interval", int_field(tr.log_interval, 1, 1000000000)},
      {"early_stop_patience", int_field(tr.early_stop_patience, 0, 1000000000)},
      {"early_stop_min_delta", real_field(tr.early_stop_min_delta, 0, kInf)},
      {"threads", int_field(tr.threads, 0, 4096)},
      {"collectives", choice_field(tr.collectives, {"auto", "mpi", "nccl"})},
  };
  auto& sy = c.synthetic;
  t.sections["synthetic"] = {
      {"objective", choice_field(sy.objective, {"learning_curve", "hartmann6", "branin", "counting_ones"})},
      {"step_cost_ms", real_field(sy.step_cost_ms, 0, 1e7)},
      {"noise", real_field(sy.noise, 0, kInf)},
      {"bias", real_field(sy.bias, 0, kInf)},
      {"n_categorical", int_field(sy.n_categorical, 0, 100000)},
  };
  auto& fa = c.faults;
  t.sections["faults"] = {
      {"fail_trials", int_list_field(fa.fail_trials)},
      {"fail_at_step", int_field(fa.fail_at_step, 1, 1000000000)},
      {"fail_mode", choice_field(fa.fail_mode, {"throw", "nan", "kill", "stop"})},
      {"fail_rank", int_field(fa.fail_rank, -1, 1 << 20)},
      {"fail_attempts", int_field(fa.fail_attempts, 0, 1000000)},
      {"startup_rank", int_field(fa.startup_rank, -1, 1 << 20)},
  };
  auto& si = c.simulate;
  t.sections["simulate"] = {
      {"groups", int_field(si.groups, 1, 10000000)},
      {"step_seconds", real_field(si.step_seconds, 0, 1e9)},
      {"step_seconds_per", str_field(si.step_seconds_per)},
      {"jitter", real_field(si.jitter, 0, 0.99)},
      {"straggler_fraction", real_field(si.straggler_fraction, 0, 1)},
      {"straggler_factor", real_field(si.straggler_factor, 1, 1e6)},
      {"failure_probability", real_field(si.failure_probability, 0, 1)},
      {"state_gb", real_field(si.state_gb, 0, 1e6)},
      {"checkpoint_seconds_per_gb", real_field(si.checkpoint_seconds_per_gb, 0, 1e6)},
      {"transfer_seconds_per_gb", real_field(si.transfer_seconds_per_gb, 0, 1e6)},
      {"round_trip_s", real_field(si.round_trip_s, 0, 1e6)},
  };
  return t;
}

std::vector<std::string> names_of(const FieldTable& t) {
  std::vector<std::string> out;
  for (const auto& f : t) out.push_back(f.first);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Keys of [model] and [train] no trial can change: where it runs, how many threads it uses, how
// often it reports, the group's data plane, the embedding table (fixed by the tokenizer) and
// which model it is.
const std::vector<std::string>& fixed_keys() {
  static const std::vector<std::string> fixed{"device", "threads", "eval_interval", "log_interval", "collectives",
                                              "early_stop_patience", "early_stop_min_delta",
                                              "vocab_size", "init", "path", "architecture"};
  return fixed;
}

// Keys of [model] that fix the parameters' shapes (PBT cannot change them; a pretrained model's
// come from its config.json).
const std::vector<std::string>& shape_keys() {
  static const std::vector<std::string> keys{"n_layer", "n_head", "n_kv_head", "d_model", "d_ff", "vocab_size",
                                             "architecture"};
  return keys;
}

}  // namespace

std::optional<HParamKey> gpt_hparam_key(const std::string& name) {
  ExperimentConfig probe;
  Tables t = make_tables(probe);
  const size_t dot = name.find('.');
  std::vector<HParamKey> candidates;
  if (dot == std::string::npos) {
    candidates = {{"train", name}, {"model", name}};
  } else {
    const std::string section = name.substr(0, dot);
    if (section == "train" || section == "model" || section == "lora") candidates = {{section, name.substr(dot + 1)}};
  }
  for (const auto& c : candidates) {
    if (!contains(names_of(t.sections[c.section]), c.key)) continue;
    if (c.section != "lora" && contains(fixed_keys(), c.key)) return std::nullopt;
    return c;
  }
  return std::nullopt;
}

namespace {

// Rules between [model], [train] and the group size; also checked for every trial's values.
// For the base config (for_trial = false), keys tuned in [space] are skipped: their base value
// is never used, and each of their values is checked as a trial's instead.
void validate_gpt_shape(const ExperimentConfig& c, bool for_trial) {
  if (c.experiment.trainable != "gpt") return;
  auto tuned = [&](const std::string& k) {
    if (for_trial) return false;
    for (const auto& dom : c.space.domains()) {
      const auto key = gpt_hparam_key(dom.name);
      if (key && key->key == k && key->section != "lora") return true;
    }
    return false;
  };
  const auto& m = c.model;
  const bool scratch = m.init == "scratch";
  if (scratch && !tuned("n_head") && !tuned("d_model") && m.d_model % m.n_head != 0)
    throw ConfigError("model.n_head", std::to_string(m.n_head) + " does not divide d_model = " +
                                          std::to_string(m.d_model),
                      "pick n_head so that d_model / n_head is a whole number");
  const int64_t per_step = int64_t(c.train.accumulation) * c.experiment.group_size;
  if (!tuned("batch_size") && !tuned("accumulation") && c.train.batch_size % per_step != 0)
    throw ConfigError("train.batch_size",
                      std::to_string(c.train.batch_size) +
                          " is not a multiple of accumulation x group_size = " + std::to_string(per_step),
                      "the global batch is micro-batch x accumulation x group_size; pick a multiple");
  if (scratch && !tuned("n_head") && !tuned("n_kv_head") && m.n_kv_head > 0 && m.n_head % m.n_kv_head != 0)
    throw ConfigError("model.n_kv_head", std::to_string(m.n_kv_head) + " does not divide n_head = " +
                                             std::to_string(m.n_head),
                      "grouped-query attention shares each key/value head among n_head / n_kv_head heads");
}

// [model] of a pretrained model: a folder, and no shape keys (config.json gives the shape).
void validate_model_source(const ExperimentConfig& c) {
  if (c.experiment.trainable != "gpt") return;
  const auto& m = c.model;
  if (m.init == "pretrained") {
    if (m.path.empty())
      throw ConfigError("model.path", "is empty but model.init = pretrained",
                        "give a Hugging Face model folder (config.json + model.safetensors), e.g. /models/SmolLM2-135M");
    for (const auto& k : shape_keys())
      if (c.ini.get("model", k))
        throw ConfigError("model." + k, "is set but model.init = pretrained takes the shape from " + m.path + "/config.json",
                          "remove model." + k + " (model.seq_len, the training context, may stay)");
    for (const auto& dom : c.space.domains()) {
      const auto key = gpt_hparam_key(dom.name);
      if (key && key->section == "model" && contains(shape_keys(), key->key))
        throw ConfigError("space." + dom.name, "a pretrained model's shape comes from its config.json",
                          "remove " + dom.name + " from [space], or use model.init = scratch to tune it");
    }
  } else if (!m.path.empty()) {
    throw ConfigError("model.path", "is set but model.init = scratch (random weights)",
                      "set model.init = pretrained to start from " + m.path + ", or remove model.path");
  }
}

// Cross-field rules, checked after every section is read.
void validate(const ExperimentConfig& c) {
  validate_model_source(c);
  validate_gpt_shape(c, false);
  if (c.scheduler.type == "asha" && c.scheduler.grace_period > c.scheduler.max_t)
    throw ConfigError("scheduler.grace_period",
                      std::to_string(c.scheduler.grace_period) + " exceeds max_t = " +
                          std::to_string(c.scheduler.max_t),
                      "make grace_period <= max_t");
  if (c.scheduler.type == "hyperband" && c.scheduler.min_t > c.scheduler.max_t)
    throw ConfigError("scheduler.min_t",
                      std::to_string(c.scheduler.min_t) + " exceeds max_t = " + std::to_string(c.scheduler.max_t),
                      "make min_t <= max_t");
  if (c.scheduler.type == "pbt") {
    if (c.experiment.deterministic)
      throw ConfigError("experiment.deterministic", "is not supported with PBT (a clone copies whatever step its source has reached)",
                        "set deterministic = false; PBT's own draws are still seeded");
    if (c.search.type == "grid" || c.search.type == "bohb")
      throw ConfigError("search.type", "PBT explores by perturbing its population, not with " + c.search.type,
                        "use search.type = random with scheduler.type = pbt");
    // A clone continues the source's weights: the model's (and the adapters') shape cannot
    // change between trials. LoRA's alpha and dropout may.
    for (const auto& dom : c.space.domains()) {
      const auto key = gpt_hparam_key(dom.name);
      if (!key) continue;
      const bool shape = key->section == "model" || (key->section == "lora" && (key->key == "rank" || key->key == "targets"));
      if (shape)
        throw ConfigError("space." + dom.name, "PBT copies weights between trials, so the model shape cannot be tuned",
                          "move " + dom.name + " to [" + key->section + "], or use asha/hyperband to tune it");
    }
  }
  if (c.space.size() == 0)
    throw ConfigError("space", "no hyperparameters to search",
                      "add a [space] section, e.g. lr = loguniform(1e-4, 1e-2)");
  if (c.search.type == "grid") {
    bool any_grid = false;
    for (const auto& dom : c.space.domains()) any_grid |= dom.kind == DomainKind::Grid;
    if (!any_grid)
      throw ConfigError("search.type", "grid search needs at least one grid(...) hyperparameter",
                        "write e.g. batch_size = grid(8, 16, 32), or use type = random");
  }
}

void read_sections(ExperimentConfig& c) {
  Tables t = make_tables(c);
  for (const auto& sec : c.ini.sections()) {
    if (sec.name == "space") continue;
    auto it = t.sections.find(sec.name);
    if (it == t.sections.end()) {
      std::vector<std::string> known{"space"};
      for (const auto& kv : t.sections) known.push_back(kv.first);
      throw ConfigError("[" + sec.name + "]", "unknown section", suggestion(sec.name, known));
    }
    for (const auto& entry : sec.entries) {
      const std::string field = sec.name + "." + entry.key;
      auto f = std::find_if(it->second.begin(), it->second.end(),
                            [&](const auto& p) { return p.first == entry.key; });
      if (f == it->second.end())
        throw ConfigError(field, "unknown key", suggestion(entry.key, names_of(it->second)));
      f->second(field, entry.value);
    }
  }
}

}  // namespace

std::vector<std::string> gpt_tunable_names() {
  ExperimentConfig c;
  Tables t = make_tables(c);
  std::vector<std::string> bare, qualified;
  for (const char* section : {"train", "model"})
    for (const auto& n : names_of(t.sections[section]))
      if (!contains(fixed_keys(), n)) {
        bare.push_back(n);
        qualified.push_back(std::string(section) + "." + n);
      }
  for (const auto& n : names_of(t.sections["lora"])) qualified.push_back("lora." + n);
  bare.insert(bare.end(), qualified.begin(), qualified.end());
  return bare;
}

static std::string substitute(std::string text, const std::string& tag, const std::string& value) {
  for (size_t p = text.find(tag); p != std::string::npos; p = text.find(tag, p + value.size()))
    text.replace(p, tag.size(), value);
  return text;
}

std::string ExperimentConfig::output_path() const { return substitute(experiment.output, "{name}", experiment.name); }

std::string mpitune_cache_dir() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v && *v ? v : "";
  };
  if (!env("MPITUNE_CACHE").empty()) return env("MPITUNE_CACHE");
  if (!env("XDG_CACHE_HOME").empty()) return env("XDG_CACHE_HOME") + "/mpitune";
  if (!env("HOME").empty()) return env("HOME") + "/.cache/mpitune";
  return ".mpitune-cache";
}

std::string ExperimentConfig::export_root() const {
  if (experiment.export_dir == "none") return "";
  return substitute(substitute(experiment.export_dir, "{output}", output_path()), "{name}", experiment.name);
}

std::string ExperimentConfig::checkpoint_root() const {
  return substitute(substitute(experiment.checkpoint_dir, "{output}", output_path()), "{name}", experiment.name);
}

ExperimentConfig parse_config(const IniFile& ini) {
  ExperimentConfig c;
  c.ini = ini;
  read_sections(c);
  // PBT's trials are its population: max_trials defaults to it, and may not be below it.
  if (c.scheduler.type == "pbt") {
    if (!ini.get("experiment", "max_trials")) {
      c.experiment.max_trials = c.scheduler.population;
    } else if (c.experiment.max_trials < c.scheduler.population) {
      throw ConfigError("experiment.max_trials",
                        std::to_string(c.experiment.max_trials) + " is below scheduler.population = " +
                            std::to_string(c.scheduler.population),
                        "remove max_trials (PBT then runs its population) or raise it");
    }
  }
  if (const IniSection* space = ini.section("space")) c.space = Space::parse(*space);
  validate(c);  // the base values first, so an error names the key that is wrong
  c.search.initial_configs = parse_initial_configs(c.space, c.search.initial_configs_text);
  if (c.experiment.trainable == "gpt") {
    for (const auto& dom : c.space.domains())
      if (!gpt_hparam_key(dom.name))
        throw ConfigError("space." + dom.name, "the gpt trainable has no hyperparameter '" + dom.name + "'",
                          suggestion(dom.name, gpt_tunable_names()));
    // Every categorical value must itself be a valid setting, so a trial never fails on it.
    for (const auto& dom : c.space.domains()) {
      if (!dom.is_categorical()) continue;
      for (const auto& v : dom.values) {
        HParams hp;
        hp.set(dom.name, v);
        try {
          with_hparams(c, hp);
        } catch (const ConfigError& err) {
          throw ConfigError("space." + dom.name, "value " + v.to_string() + " is invalid (" + err.what() + ")",
                            "remove it from the choices");
        }
      }
    }
    // A warm-start configuration is a trial's settings too: check it the same way.
    for (size_t i = 0; i < c.search.initial_configs.size(); ++i) {
      try {
        with_hparams(c, c.search.initial_configs[i]);
      } catch (const ConfigError& err) {
        throw ConfigError("search.initial_configs",
                          "configuration " + std::to_string(i + 1) + " is invalid (" + err.what() + ")",
                          "change that configuration's values");
      }
    }
  }
  return c;
}

ExperimentConfig with_hparams(const ExperimentConfig& base, const HParams& hp) {
  ExperimentConfig c;
  c.ini = base.ini;
  for (const auto& [name, value] : hp.entries()) {
    const auto key = gpt_hparam_key(name);
    MPITUNE_CHECK(key.has_value(), "hyperparameter '" + name + "' sets no key of the gpt trainable");
    c.ini.set(key->section, key->key, value.to_string());
  }
  // Keep the base's space (already parsed) rather than re-parsing it.
  IniFile without_space;
  for (const auto& sec : c.ini.sections())
    if (sec.name != "space")
      for (const auto& e : sec.entries) without_space.set(sec.name, e.key, e.value);
  c.ini = without_space;
  read_sections(c);
  c.ini = base.ini;
  c.space = base.space;
  validate_gpt_shape(c, true);
  return c;
}

}  // namespace mpitune
