// The ZeRO-3 sharded GptModel (DeepSpeed stage 3, PyTorch FSDP full sharding) over the G ranks
// of a trial group, for every architecture (architecture.hpp) and with LoRA.
//
// Buffers (model_layout.hpp): the root (embeddings, final norm, head) and each block are units;
// each buffer of a unit is one flat vector padded to a multiple of G (shard_layout.hpp), rank r
// owning slice r. Persistent per rank and trainable buffer: the fp32 master slice, AdamW m and v,
// the fp32 gradient slice, and (bf16/fp16) the low-precision slice that is all-gathered: 16
// bytes per parameter / G in fp32, 18 in mixed precision. A frozen buffer (the base model under
// LoRA) keeps only its slice in the compute dtype: 2 or 4 bytes per parameter / G, no master,
// gradient or optimizer state; with a FrozenCache its slices are loaded once per group and
// shared by every trial of the same base.
//
// Forward of a micro-batch: gather the root; gather block 1 and post the gather of block 2 (the
// prefetch); compute block 1 on a detached copy of its input that requires grad; release block
// 1's gathered storage (nbytes 0; unit_storage.hpp: the graph keeps views of it); wait for block
// 2, post block 3, ... The root stays gathered through the micro-batch (it serves the embedding
// and the head), as FSDP's root unit does.
//
// Backward, explicit and unit by unit, from the last: the head's backward first (grad of the
// loss w.r.t. the root's trainable buffers and the last block's output) while block L is
// refilled; then for block i: wait for its refill (posted one unit ahead, so refilling i-1
// overlaps i's backward), backward through block i alone (grad of its output w.r.t. its
// trainable gathered buffers and its detached input), release its memory, and reduce-scatter its
// gradients (fp32) into the owners' slices while block i-1 computes; finally the embedding's
// backward and the root's reduce-scatter. With a frozen root the embedding's backward and the
// first block's input gradient are skipped. Explicit per-unit grad() calls fix the order of
// every gather, release and reduce-scatter, which autograd hooks would leave to the engine; the
// price is one detach per block boundary (no extra memory: the detached input shares the
// previous output's storage).
//
// Prefetch: on CPU (MPI) a posted MPI_Iallgather / MPI_Ireduce_scatter_block, completed by the
// wait before the data is needed; Open MPI progresses them inside MPI calls, so the overlap is
// partial. On CUDA (NCCL) the collectives run on the backend's side stream; the compute stream
// waits on events, the host never does. At most two gathered blocks and two full gradient
// buffers exist at any time.
//
// Gradients are reduced in fp32 on every backend (Open MPI has no 16-bit sum, and fp32 keeps
// the sum exact enough for the G-independence test). Accumulation over micro-batches adds each
// micro-batch's reduce-scattered slice, so the result equals the dense model's up to the order
// of the floating-point sums.
#pragma once

#include <memory>
#include <vector>

#include "mpitune/train/gpt_model.hpp"
#include "mpitune/train/shard_layout.hpp"

namespace mpitune {

class Collectives;

struct ShardedMemory {
  int64_t persistent_bytes = 0;  // master, m, v and gradient slices, low-precision and frozen slices
  int64_t trainable_bytes = 0;   // of which belong to trainable buffers
  int64_t gathered_bytes = 0;    // gathered unit storage held right now
};

class ShardedGpt : public GptModel {
 public:
  // One per buffer of layout().
  virtual const std::vector<ShardLayout>& shards() const = 0;
  // Bytes held now, measured from the tensors' storages.
  virtual ShardedMemory memory() const = 0;
  // The bytes each unit's gathered storage held when the last forward pass ended (before its
  // backward): 0 for every block, the root's padded size for the root.
  virtual std::vector<int64_t> gathered_bytes_after_forward() const = 0;
  // This rank's fp32 gradient slice of trainable buffer b (a view: tests write into it).
  virtual at::Tensor gradient_slice(size_t b) = 0;
};

// init: where the first values come from (as the dense model, so both start from the same
// values for any G; a pretrained folder is read only in the ranges of this rank's slices).
// group: the trial group (G >= 1).
std::unique_ptr<ShardedGpt> make_sharded_gpt(const ModelSpec& spec, const ModelInit& init, at::Device device,
                                             Precision precision, std::shared_ptr<Collectives> group);

}  // namespace mpitune
