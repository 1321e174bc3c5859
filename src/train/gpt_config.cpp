// validate_gpt_config: the machine-dependent checks of a GPT experiment (see gpt_config.hpp).
#include "mpitune/train/gpt_config.hpp"

#include <algorithm>

#include "mpitune/comm/mpi_collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/train/data.hpp"
#include "mpitune/train/device.hpp"

namespace mpitune {
namespace {

// The longest context any trial may use: model.seq_len, or the top of a [space] seq_len domain.
int64_t largest_seq_len(const ExperimentConfig& c) {
  int64_t longest = c.model.seq_len;
  if (const Domain* d = c.space.find("seq_len")) {
    if (d->is_categorical()) {
      for (const auto& v : d->values)
        if (v.is_numeric()) longest = std::max(longest, v.as_int());
    } else {
      longest = std::max(longest, static_cast<int64_t>(d->high));
    }
  }
  return longest;
}

void check_device(const ExperimentConfig& c) {
  const auto& t = c.train;
  if (t.device == "cuda" && !cuda_available())
    throw ConfigError("train.device", "cuda is asked for but no CUDA device is usable here",
                      "use device = cpu or auto, or run on a CUDA build of mpitune with a GPU");
  const bool cpu = resolve_device(t.device) == "cpu";
  if (cpu && parse_precision(t.precision) == Precision::F16)
    throw ConfigError("train.precision", "fp16 needs a CUDA device", "use bf16 or fp32 on CPU");
  if (t.collectives == "nccl" && cpu)
    throw ConfigError("train.collectives", "nccl needs CUDA tensors but the trials run on the CPU",
                      "use collectives = auto or mpi, or device = cuda on a GPU machine");
  if (t.collectives == "nccl" && !nccl_built())
    throw ConfigError("train.collectives", "this build of mpitune has no NCCL backend",
                      "use collectives = auto or mpi, or build mpitune against a CUDA libtorch with NCCL");
}

void check_vocab(const ExperimentConfig& c) {
  if (c.model.vocab_size < kByteVocab)
    throw ConfigError("model.vocab_size",
                      std::to_string(c.model.vocab_size) + " is smaller than the byte tokenizer's 256 tokens",
                      "use vocab_size = 256 (a larger table is allowed but only pads the embedding)");
}

void check_corpus(const ExperimentConfig& c) {
  const std::string& path = c.data.corpus;
  const auto files = corpus_files(path);
  const SplitSizes sizes = split_sizes(files, c.data.val_fraction);
  if (files.empty() || sizes.train + sizes.validation == 0)
    throw ConfigError("data.corpus", "'" + path + "' holds no text",
                      "point data.corpus at a non-empty text file or folder of text files");
  const int64_t window = largest_seq_len(c) + 1;
  if (sizes.train < window || sizes.validation < window)
    throw ConfigError("data.corpus",
                      "'" + path + "' splits into " + std::to_string(sizes.train) + " training and " +
                          std::to_string(sizes.validation) + " validation bytes, but a window of seq_len + 1 = " +
                          std::to_string(window) + " bytes must fit in each",
                      "use a larger corpus, a larger data.val_fraction or a smaller model.seq_len");
}

}  // namespace

void validate_gpt_config(const ExperimentConfig& c) {
  if (c.experiment.trainable != "gpt") return;
  check_device(c);
  check_vocab(c);
  check_corpus(c);
}

}  // namespace mpitune
