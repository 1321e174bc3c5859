// Free and refill of a tensor's storage in place (see unit_storage.hpp).
#include "mpitune/train/unit_storage.hpp"

#include <c10/core/StorageImpl.h>

#include "mpitune/core/error.hpp"

namespace mpitune {

void release_storage(const at::Tensor& t) {
  c10::StorageImpl* s = t.storage().unsafeGetStorageImpl();
  // The old DataPtr's deleter returns the memory (CPU: free; CUDA: the caching allocator, ordered
  // on the stream the block was allocated on, so queued kernels that still read it are safe).
  s->set_data_ptr_noswap(at::DataPtr(nullptr, t.device()));
  s->set_nbytes(0);
}

void refill_storage(const at::Tensor& t, size_t nbytes) {
  c10::StorageImpl* s = t.storage().unsafeGetStorageImpl();
  at::Allocator* allocator = s->allocator();
  MPITUNE_CHECK(allocator != nullptr, "a released storage without an allocator cannot be refilled");
  s->set_data_ptr_noswap(allocator->allocate(nbytes));
  s->set_nbytes(nbytes);
}

size_t storage_bytes(const at::Tensor& t) { return t.storage().nbytes(); }

}  // namespace mpitune
