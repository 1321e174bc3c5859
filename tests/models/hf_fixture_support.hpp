// Reading the fixtures of hf_fixtures.py from the C++ tests: where they are, their reference
// logits and loss, and the ModelSpec of a fixture folder.
#pragma once

#include <ATen/ATen.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "mpitune/hf/hf_config.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "mpitune/train/gpt_model.hpp"

namespace mpitune::testing {

// The fixtures' folder (ctest sets the variable; hf_fixtures_make writes it).
inline std::string fixtures() {
  const char* d = std::getenv("MPITUNE_HF_FIXTURES_DIR");
  if (!d || !*d) throw std::runtime_error("MPITUNE_HF_FIXTURES_DIR is not set: run the test through ctest");
  return d;
}
inline std::string fixture(const std::string& name) { return fixtures() + "/" + name; }

struct Reference {
  at::Tensor tokens;  // [B, T] int64
  at::Tensor logits;  // [B, T, V] fp32
  double loss = 0;
};

inline Reference read_reference(const std::string& dir) {
  const auto f = SafetensorsFile::open(dir + "/reference.safetensors");
  Reference r;
  const TensorEntry* t = f->find("tokens");
  const TensorEntry* l = f->find("logits");
  const TensorEntry* s = f->find("loss");
  if (!t || !l || !s) throw std::runtime_error(dir + ": incomplete reference.safetensors");
  r.tokens = at::empty(t->shape, at::TensorOptions().dtype(at::kLong));
  f->read_raw(*t, 0, t->numel(), r.tokens.data_ptr());
  r.logits = at::empty(l->shape, at::TensorOptions().dtype(at::kFloat));
  f->read_f32(*l, 0, l->numel(), r.logits.data_ptr<float>());
  float loss = 0;
  f->read_f32(*s, 0, 1, &loss);
  r.loss = loss;
  return r;
}

// Mean next-token loss of logits [B, T, V] predicting tokens[:, 1:], as the reference does.
inline double next_token_loss(GptModel& m, const at::Tensor& tokens) {
  const int64_t t = tokens.size(1);
  const at::Tensor x = tokens.narrow(1, 0, t - 1), y = tokens.narrow(1, 1, t - 1);
  return m.forward_loss(x, y).item<double>() / static_cast<double>(y.numel());
}

inline double max_abs(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

inline ModelSpec spec_of(const std::string& dir, int64_t seq_len) {
  const HfModelConfig hf = HfModelConfig::load(dir);
  ExperimentConfig c;
  c.model.init = "pretrained";
  c.model.path = dir;
  c.model.seq_len = static_cast<int>(seq_len);
  return ModelSpec::from_config(c, &hf, 0);
}

}  // namespace mpitune::testing
