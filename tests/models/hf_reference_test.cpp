// mpitune's models against the plain-PyTorch reference of hf_fixtures.py, on tiny random-weight
// checkpoints in the exact Hugging Face layouts (GPT-2 with and without the transformer. prefix
// and its old buffers; Llama with GQA, rope_theta != 10000, tied and untied, a head_dim of its
// own, a sharded bf16 index; Qwen2 with biases; Mistral; PEFT adapters): logits and loss to 1e-4
// in fp32, dense and ZeRO-3 with G = 1 and 2; LoRA with B = 0 starts at the base model's loss;
// exports that check-export (its own layout tables) accepts and that load back to the same logits.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "mpitune/comm/fake_ranks.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/hf/hf_config.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "mpitune/train/dense_gpt.hpp"
#include "mpitune/train/hf_export.hpp"
#include "mpitune/train/hf_model.hpp"
#include "mpitune/train/hf_names.hpp"
#include "mpitune/train/model_layout.hpp"
#include "mpitune/train/sharded_gpt.hpp"
#include "hf_fixture_support.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::fixture;
using testing::max_abs;
using testing::next_token_loss;
using testing::read_reference;
using testing::Reference;
using testing::spec_of;

const char* const kBases[] = {"gpt2_prefixed_fp32", "gpt2_bare_bf16",   "llama_gqa_untied_fp32", "llama_tied_bf16_sharded",
                              "llama_headdim",      "qwen2_bias_fp32",  "mistral_fp32",          "llama_bytes_tiny"};

class HfReference : public ::testing::TestWithParam<const char*> {};

TEST_P(HfReference, DenseModelGivesTheReferenceLogits) {
  const std::string dir = fixture(GetParam());
  const Reference ref = read_reference(dir);
  const ModelSpec spec = spec_of(dir, ref.tokens.size(1));
  const SafetensorsFolder weights = SafetensorsFolder::open(dir);
  check_pretrained_weights(spec, model_layout(spec), weights);
  ModelInit init;
  init.weights = &weights;
  auto m = make_dense_gpt(spec, init, at::kCPU, Precision::F32, nullptr);
  const at::Tensor logits = m->forward_logits(ref.tokens);
  ASSERT_EQ(logits.sizes(), ref.logits.sizes());
  const double diff = max_abs(logits, ref.logits), loss = next_token_loss(*m, ref.tokens);
  std::printf("%s: max |logit - reference| %.2e, loss %.6f vs %.6f\n", GetParam(), diff, loss, ref.loss);
  EXPECT_LT(diff, 1e-4) << GetParam();
  EXPECT_NEAR(loss, ref.loss, 1e-4) << GetParam();
}

TEST_P(HfReference, Zero3GroupsOf1And2GiveTheReferenceLogits) {
  const std::string dir = fixture(GetParam());
  const Reference ref = read_reference(dir);
  const ModelSpec spec = spec_of(dir, ref.tokens.size(1));
  const SafetensorsFolder weights = SafetensorsFolder::open(dir);
  for (int g : {1, 2}) {
    std::mutex mu;
    std::vector<double> diffs, losses;
    run_fake_ranks(g, [&](std::shared_ptr<Collectives> c) {
      ModelInit init;
      init.weights = &weights;
      auto m = make_sharded_gpt(spec, init, at::kCPU, Precision::F32, c);
      const double d = max_abs(m->forward_logits(ref.tokens), ref.logits);
      const double l = next_token_loss(*m, ref.tokens);
      std::lock_guard<std::mutex> lock(mu);
      diffs.push_back(d);
      losses.push_back(l);
    });
    for (size_t r = 0; r < diffs.size(); ++r) {
      EXPECT_LT(diffs[r], 1e-4) << GetParam() << " G = " << g << " rank " << r;
      EXPECT_NEAR(losses[r], ref.loss, 1e-4) << GetParam() << " G = " << g << " rank " << r;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, HfReference, ::testing::ValuesIn(kBases));

TEST(HfAdapters, PeftAdaptersGiveTheReferenceLogits) {
  for (const char* name : {"llama_lora_adapter", "gpt2_lora_adapter"}) {
    const std::string dir = fixture(name);
    const Reference ref = read_reference(dir);
    HfModel m = open_hf_model(dir, "bytes", ref.tokens.size(1), Precision::F32);
    EXPECT_GT(m.spec.lora.rank, 0) << name;
    EXPECT_LT(max_abs(m.model->forward_logits(ref.tokens), ref.logits), 1e-4) << name;
    EXPECT_NEAR(next_token_loss(*m.model, ref.tokens), ref.loss, 1e-4) << name;
  }
}

TEST(HfAdapters, LoraWithZeroBStartsExactlyAtTheBaseModel) {
  const std::string dir = fixture("llama_gqa_untied_fp32");
  const Reference ref = read_reference(dir);
  ModelSpec base = spec_of(dir, ref.tokens.size(1));
  ModelSpec lora = base;
  lora.lora.rank = 8;
  lora.lora.alpha = 16;
  lora.lora.modules = resolve_lora_targets("all-linear", lora.linears(), lora.family);
  const SafetensorsFolder weights = SafetensorsFolder::open(dir);
  ModelInit init;
  init.weights = &weights;
  init.seed = 3;  // A random, B zero
  auto plain = make_dense_gpt(base, init, at::kCPU, Precision::F32, nullptr);
  auto adapted = make_dense_gpt(lora, init, at::kCPU, Precision::F32, nullptr);
  EXPECT_EQ(next_token_loss(*adapted, ref.tokens), next_token_loss(*plain, ref.tokens));
  run_fake_ranks(2, [&](std::shared_ptr<Collectives> c) {
    auto sharded = make_sharded_gpt(lora, init, at::kCPU, Precision::F32, c);
    EXPECT_NEAR(next_token_loss(*sharded, ref.tokens), ref.loss, 1e-4);
  });
}

// Runs the fixtures' own layout check on an exported folder.
int check_export(const std::string& out, const std::string& base, bool adapter) {
  const std::string cmd = "/usr/bin/python3 " MPITUNE_SOURCE_DIR "/tests/models/hf_fixtures.py check-export '" + out +
                          "' --base '" + base + "'" + (adapter ? " --adapter" : "");
  return std::system(cmd.c_str());
}

std::vector<at::Tensor> all_buffers(GptModel& m) {
  std::vector<at::Tensor> out;
  for (size_t b = 0; b < m.layout().size(); ++b) out.push_back(m.buffer_values(b));
  return out;
}

TEST(HfExport, FullModelsExportAsTransformersFoldersAndLoadBack) {
  for (const char* name : {"gpt2_bare_bf16", "llama_tied_bf16_sharded", "qwen2_bias_fp32"}) {
    const std::string dir = fixture(name);
    const Reference ref = read_reference(dir);
    HfModel m = open_hf_model(dir, "bytes", ref.tokens.size(1), Precision::F32);
    testing::TempDir out;
    const HfModelConfig hf = HfModelConfig::load(dir);
    const ExportedFolder e = export_hf_model(m.spec, m.model->layout(), all_buffers(*m.model), TensorDType::F32,
                                             hf.json_text, {}, -1, -1, out.path());
    EXPECT_GT(e.tensors, 0);
    EXPECT_EQ(check_export(out.path(), dir, false), 0) << name;
    HfModel back = open_hf_model(out.path(), "bytes", ref.tokens.size(1), Precision::F32);
    EXPECT_TRUE(at::equal(back.model->forward_logits(ref.tokens), m.model->forward_logits(ref.tokens))) << name;
  }
}

TEST(HfExport, AdaptersExportWithPeftNamesAndLoadBack) {
  for (const char* name : {"llama_lora_adapter", "gpt2_lora_adapter"}) {
    const std::string dir = fixture(name);
    const Reference ref = read_reference(dir);
    HfModel m = open_hf_model(dir, "bytes", ref.tokens.size(1), Precision::F32);
    testing::TempDir out;
    const ExportedFolder e =
        export_peft_adapter(m.spec, m.model->layout(), all_buffers(*m.model), m.base_dir, out.path());
    EXPECT_GT(e.tensors, 0);
    EXPECT_EQ(check_export(out.path(), m.base_dir, true), 0) << name;
    HfModel back = open_hf_model(out.path(), "bytes", ref.tokens.size(1), Precision::F32);
    EXPECT_TRUE(at::equal(back.model->forward_logits(ref.tokens), m.model->forward_logits(ref.tokens))) << name;
  }
}

TEST(HfErrors, UnsupportedModelTypesAndMismatchedWeightsAreConfigErrors) {
  testing::TempDir dir;
  testing::write_file(dir.file("config.json"), R"({"model_type": "bert", "architectures": ["BertForMaskedLM"]})");
  try {
    HfModelConfig::load(dir.path());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "model.path");
    EXPECT_NE(std::string(e.what()).find("model_type 'bert' is not supported"), std::string::npos) << e.what();
  }
  // A config.json that says 3 layers over weights of 2: the missing tensor is named.
  const std::string src = fixture("llama_gqa_untied_fp32");
  ModelSpec spec = spec_of(src, 12);
  spec.n_layer = 3;
  const SafetensorsFolder weights = SafetensorsFolder::open(src);
  try {
    check_pretrained_weights(spec, model_layout(spec), weights);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model.layers.2."), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpitune
