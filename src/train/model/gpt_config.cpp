// validate_gpt_config: the machine-dependent checks of a GPT experiment (see gpt_config.hpp).
// No libtorch here (rank 0 runs this in the torch-free mpitune): whether CUDA is usable is the
// caller's answer.
#include "mpitune/train/gpt_config.hpp"

#include <algorithm>

#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/data/documents.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/train/device.hpp"
#include "mpitune/train/hf_names.hpp"
#include "mpitune/train/model_layout.hpp"
#include "mpitune/train/model_source.hpp"

namespace mpitune {
namespace {

bool names_key(const std::string& space_name, const std::string& section, const std::string& key) {
  const auto k = gpt_hparam_key(space_name);
  return k && k->section == section && k->key == key;
}

void check_device(const ExperimentConfig& c, bool cuda_usable) {
  const auto& t = c.train;
  if (t.device == "cuda" && !cuda_usable)
    throw ConfigError("train.device", "cuda is asked for but no CUDA device is usable here",
                      "use device = cpu or auto, or run on a CUDA build of mpitune with a GPU");
  const bool cpu = t.device == "cpu" || (t.device == "auto" && !cuda_usable);  // as resolve_device
  if (cpu && parse_precision(t.precision) == Precision::F16)
    throw ConfigError("train.precision", "fp16 needs a CUDA device", "use bf16 or fp32 on CPU");
  if (t.collectives == "nccl" && cpu)
    throw ConfigError("train.collectives", "nccl needs CUDA tensors but the trials run on the CPU",
                      "use collectives = auto or mpi, or device = cuda on a GPU machine");
  if (t.collectives == "nccl" && !nccl_built())
    throw ConfigError("train.collectives", "this build of mpitune has no NCCL backend",
                      "use collectives = auto or mpi, or build mpitune against a CUDA libtorch with NCCL");
}

// The model of the base config and of every value a tuned lora.* key may take (its choices, or
// the ends of its range) must fit: a rank larger than a target, targets that name nothing.
void check_models(const ExperimentConfig& c, const ModelSource& src) {
  const ModelSpec base = src.spec(c);
  if (src.weights) check_pretrained_weights(base, model_layout(base), *src.weights);
  for (const auto& dom : c.space.domains()) {
    const auto key = gpt_hparam_key(dom.name);
    if (!key || !(key->section == "lora" || (key->section == "model" && key->key == "seq_len"))) continue;
    std::vector<ParamValue> values = dom.values;
    if (!dom.is_categorical()) values = {ParamValue(dom.low), ParamValue(dom.high)};
    for (const auto& v : values) {
      HParams hp;
      hp.set(dom.name, dom.kind == DomainKind::Int ? ParamValue(v.as_int()) : v);
      try {
        src.spec(with_hparams(c, hp));
      } catch (const ConfigError& e) {
        throw ConfigError("space." + dom.name, "value " + v.to_string() + " does not fit the model (" + e.what() + ")",
                          "narrow the domain");
      }
    }
  }
}

}  // namespace

int64_t largest_seq_len(const ExperimentConfig& c) {
  int64_t longest = c.model.seq_len;
  for (const auto& d : c.space.domains()) {
    if (!names_key(d.name, "model", "seq_len")) continue;
    if (d.is_categorical()) {
      for (const auto& v : d.values)
        if (v.is_numeric()) longest = std::max(longest, v.as_int());
    } else {
      longest = std::max(longest, static_cast<int64_t>(d.high));
    }
  }
  return longest;
}

DataOptions retention_data_options(const ExperimentConfig& c) {
  DataOptions d = c.data;
  d.corpus = d.val_corpus = c.data.retention_corpus;
  d.test_corpus.clear();
  d.test_fraction = 0;
  d.exclude.clear();
  return d;
}

void validate_gpt_config(const ExperimentConfig& c, bool progress, bool cuda_usable) {
  if (c.experiment.trainable != "gpt") return;
  check_device(c, cuda_usable);
  const ModelSource src = ModelSource::open(c);
  check_models(c, src);
  prepare_token_corpus(c.data, *src.tokenizer, token_cache_dir(c), largest_seq_len(c) + 1, progress);
  if (!c.data.retention_corpus.empty()) {
    // Its own field in the errors (the token corpus would name data.corpus).
    list_corpus_files(c.data.retention_corpus, c.data.extensions, "", "data.retention_corpus");
    try {
      prepare_token_corpus(retention_data_options(c), *src.tokenizer, token_cache_dir(c), largest_seq_len(c) + 1,
                           progress);
    } catch (const ConfigError& e) {
      std::string problem = e.what();
      if (problem.rfind(e.field() + ": ", 0) == 0) problem.erase(0, e.field().size() + 2);
      throw ConfigError("data.retention_corpus", "'" + c.data.retention_corpus + "': " + problem);
    }
  }
}

}  // namespace mpitune
