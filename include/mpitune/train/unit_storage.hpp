// Freeing and refilling the memory behind a tensor without replacing its StorageImpl.
//
// ZeRO-3 frees a unit's gathered parameters after the unit's forward, but the autograd graph
// keeps views of them (saved weights of linear, layer_norm, ...). Those views hold the
// StorageImpl, and read its data pointer at use time, so the memory can go (nbytes 0) and come
// back later in the SAME StorageImpl through its raw pointer. Never an in-place tensor op: that
// would bump the version counter, and autograd would reject the saved views in backward.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>

namespace mpitune {

// Returns the storage's memory to its allocator; the storage keeps existing with 0 bytes.
void release_storage(const at::Tensor& t);
// Gives the storage fresh memory for `nbytes` from its own allocator (contents undefined).
void refill_storage(const at::Tensor& t, size_t nbytes);
// Bytes the storage holds now (0 after release_storage).
size_t storage_bytes(const at::Tensor& t);

}  // namespace mpitune
