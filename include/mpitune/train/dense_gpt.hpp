// The dense GptModel: every rank holds every parameter (no sharding). With a group of G > 1 it
// is plain data parallelism (gradients all-reduced); the ZeRO-3 model must match it.
//
// Storage per unit: one flat fp32 master buffer, fp32 gradient accumulator, AdamW m and v. For
// fp32 compute the forward uses the master itself; for bf16 and fp16 it uses a
// low-precision copy refreshed after every update, and gradients of the copy are converted to
// fp32 as each micro-batch's backward ends (so accumulation is always in fp32).
#pragma once

#include <memory>

#include "mpitune/train/gpt_model.hpp"

namespace mpitune {

class Collectives;

// seed: the trial seed (unit u is initialised from derive_seed(seed, "init", u)).
// group: null or a group of one rank for a single rank.
std::unique_ptr<GptModel> make_dense_gpt(const GptShape& shape, uint64_t seed, at::Device device,
                                         Precision precision, std::shared_ptr<Collectives> group);

}  // namespace mpitune
