// mpitune export (see model_commands.hpp): the kept checkpoint of a trial, loaded by a group of
// thread-ranks of the same size as the one that trained it, gathered and written as a Hugging
// Face model folder or a PEFT adapter folder.
#include <ATen/ATen.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <mutex>

#include "mpitune/comm/fake_ranks.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/runtime/model_commands.hpp"
#include "mpitune/store/hdf5_store.hpp"
#include "mpitune/train/checkpoint.hpp"
#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/gpt_trainable.hpp"
#include "mpitune/train/hf_export.hpp"
#include "mpitune/train/model_source.hpp"
#include "mpitune/train/state_io.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

std::string kept_list(const ExperimentData& data, const std::string& root) {
  std::string ids;
  for (const auto& t : data.trials)
    if (file_exists(manifest_path(root + "/trial-" + std::to_string(t.id))))
      ids += (ids.empty() ? "" : ", ") + std::to_string(t.id);
  return ids.empty() ? "none" : ids;
}

TensorDType export_dtype(const std::string& flag, const std::string& precision) {
  const std::string p = flag == "auto" ? precision : flag;
  if (p == "fp32" || p == "f32") return TensorDType::F32;
  if (p == "bf16") return TensorDType::BF16;
  if (p == "fp16" || p == "f16") return TensorDType::F16;
  throw ConfigError("--dtype", "'" + flag + "' is not auto, fp32, bf16 or fp16", "pick one of them");
}

// The tokenizer's own files and the configs transformers reads next to them.
std::vector<std::string> files_to_copy(const ExperimentConfig& cfg, const ModelSource& source) {
  std::vector<std::string> files = source.tokenizer->files();
  if (cfg.model.init == "pretrained")
    for (const char* f : {"tokenizer_config.json", "special_tokens_map.json", "generation_config.json"})
      files.push_back(cfg.model.path + "/" + f);
  return files;
}

}  // namespace

int export_command(const std::vector<std::string>& args) {
  po::options_description desc(
      "mpitune export RESULT.h5 --trial N --out DIR [--dtype auto|fp32|bf16|fp16]\n"
      "  A kept trial's final weights (experiment.keep) as a Hugging Face folder: config.json +\n"
      "  model.safetensors + tokenizer files for a full fine-tune (or a scratch model), or a PEFT\n"
      "  adapter folder (adapter_config.json + adapter_model.safetensors) for LoRA.\n\noptions");
  desc.add_options()("help,h", "this help")
      ("file", po::value<std::string>(), "result file (.h5)")
      ("trial,t", po::value<int64_t>(), "trial id")
      ("out,o", po::value<std::string>(), "folder to write")
      ("dtype", po::value<std::string>()->default_value("auto"), "weights of a full model: auto (the trial's precision)");
  po::positional_options_description pos;
  pos.add("file", 1);
  const po::variables_map vm = parse_command_line(args, desc, &pos, "export");
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!vm.count("file")) throw ConfigError("export", "no result file given", "mpitune export results/NAME.h5 --trial N --out DIR");
  if (!vm.count("trial")) throw ConfigError("--trial", "is missing", "give the id of a kept trial");
  if (!vm.count("out")) throw ConfigError("--out", "is missing", "give the folder to write");
  const std::string file = vm["file"].as<std::string>(), out = vm["out"].as<std::string>();
  const int64_t id = vm["trial"].as<int64_t>();

  const ExperimentData data = read_hdf5_experiment(file);
  if (data.info.trainable != "gpt") throw ConfigError("export", file + " is an experiment of " + data.info.trainable + ", not of a model");
  const ExperimentConfig cfg = parse_config(IniFile::parse(data.info.config_text, file + " config_text"));
  const TrialRecord* trial = nullptr;
  for (const auto& t : data.trials)
    if (t.id == id) trial = &t;
  if (!trial) throw ConfigError("--trial", file + " has no trial " + std::to_string(id), "see mpitune report " + file);
  const std::string root = data.info.keep_dir.empty() ? cfg.keep_root() : data.info.keep_dir;
  const std::string dir = root + "/trial-" + std::to_string(id);
  if (!file_exists(manifest_path(dir)))
    throw ConfigError("--trial", "the final weights of trial " + std::to_string(id) + " were not kept (experiment.keep = " +
                                     cfg.experiment.keep + "; kept in " + root + ": " + kept_list(data, root) + ")",
                      "export a kept trial, or rerun with experiment.keep = all");
  const std::vector<uint8_t> text = read_file_bytes(manifest_path(dir));
  const CheckpointManifest manifest = CheckpointManifest::parse(std::string(text.begin(), text.end()), dir);

  const ModelSource source = ModelSource::open(cfg);
  const ExperimentConfig trial_cfg = with_hparams(cfg, trial->hparams);
  const ModelSpec spec = source.spec(trial_cfg);
  // Load the trial as the group that trained it would (G thread-ranks), then gather every buffer
  // the export needs: all of them for a full model, the adapters for LoRA.
  std::vector<at::Tensor> buffers;
  std::vector<UnitLayout> layout;
  std::mutex mu;
  run_fake_ranks(manifest.group_size, [&](std::shared_ptr<Collectives> group) {
    auto t = make_gpt_trainable(cfg, group);
    t->load_checkpoint(dir, id, trial->hparams);
    GptModel* m = gpt_model_of(*t);
    MPITUNE_CHECK(m != nullptr, "no model after loading " + dir);
    std::vector<at::Tensor> mine(m->layout().size());
    for (size_t b = 0; b < m->layout().size(); ++b)
      if (spec.lora.rank == 0 || m->layout()[b].adapters) mine[b] = m->buffer_values(b);
    if (group->rank() == 0) {
      std::lock_guard<std::mutex> lock(mu);
      buffers = std::move(mine);
      layout = m->layout();
    }
  });

  ExportedFolder done;
  if (spec.lora.rank > 0) {
    done = export_peft_adapter(spec, layout, buffers, cfg.model.path, out);
  } else {
    done = export_hf_model(spec, layout, buffers, export_dtype(vm["dtype"].as<std::string>(), manifest.precision),
                           source.hf ? source.hf->json_text : "", files_to_copy(cfg, source), source.tokenizer->bos_id(),
                           source.tokenizer->eos_id(), out);
  }
  std::printf("mpitune: exported trial %lld at step %lld as %s: %lld tensors, %.1f MB, in %s\n",
              static_cast<long long>(id), static_cast<long long>(manifest.step),
              spec.lora.rank > 0 ? "a PEFT LoRA adapter" : "a Hugging Face model", static_cast<long long>(done.tensors),
              static_cast<double>(done.bytes) / 1e6, out.c_str());
  if (spec.lora.rank > 0) std::printf("mpitune: its base model is %s\n", cfg.model.path.c_str());
  return 0;
}

}  // namespace mpitune
