// The dense GptModel: every rank holds every parameter (no sharding). With a group of G > 1 it
// is plain data parallelism (gradients all-reduced); the ZeRO-3 model must match it. It also
// serves single-process uses: `mpitune eval`, reference tests.
//
// Storage per trainable buffer: one flat fp32 master, an fp32 gradient accumulator, AdamW m and
// v. For fp32 compute the forward uses the master itself; for bf16 and fp16 a low-precision copy
// refreshed after every update, whose gradients are converted to fp32 as each micro-batch's
// backward ends (so accumulation is always in fp32). Frozen buffers hold only their values in
// the compute dtype.
#pragma once

#include <memory>

#include "mpitune/train/gpt_model.hpp"

namespace mpitune {

class Collectives;

// group: null or a group of one rank for a single rank.
std::unique_ptr<GptModel> make_dense_gpt(const ModelSpec& spec, const ModelInit& init, at::Device device,
                                         Precision precision, std::shared_ptr<Collectives> group);

}  // namespace mpitune
