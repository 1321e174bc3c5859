// Releasing and refilling a tensor's storage in place: the StorageImpl and the version counter
// stay, so autograd's saved views still work after a refill (the ZeRO-3 free/refill mechanism).
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include <ATen/ATen.h>

#include "mpitune/train/unit_storage.hpp"

namespace mpitune {
namespace {

TEST(UnitStorage, ReleaseKeepsTheStorageAndRefillFeedsSavedViews) {
  at::Tensor flat = at::arange(6, at::TensorOptions().dtype(at::kFloat)).requires_grad_(true);
  const at::Tensor w = flat.narrow(0, 2, 3);  // a view, as unit_views makes
  const at::Tensor x = at::full({3}, 2.0);
  const at::Tensor y = (w * x).sum();  // mul saves w for the gradient of x... and x for w
  const at::Tensor z = (w * w).sum();  // saves w itself: its backward reads the storage
  const c10::StorageImpl* impl = flat.storage().unsafeGetStorageImpl();
  const auto version = flat._version();

  release_storage(flat);
  EXPECT_EQ(storage_bytes(flat), 0u);
  EXPECT_EQ(flat.storage().unsafeGetStorageImpl(), impl);

  refill_storage(flat, 6 * sizeof(float));
  EXPECT_EQ(storage_bytes(flat), 6 * sizeof(float));
  EXPECT_EQ(flat.storage().unsafeGetStorageImpl(), impl);
  float* p = static_cast<float*>(flat.data_ptr());
  for (int i = 0; i < 6; ++i) p[i] = 10.0f * i;  // new values through the raw pointer
  EXPECT_EQ(flat._version(), version);         // no in-place op: autograd stays happy

  // d(sum w*w)/dw = 2 w, read from the refilled storage: 2 * (20, 30, 40).
  const auto g = torch::autograd::grad({z}, {flat});
  EXPECT_TRUE(at::equal(g[0], at::tensor({0.f, 0.f, 40.f, 60.f, 80.f, 0.f})));
  const auto gy = torch::autograd::grad({y}, {flat});
  EXPECT_TRUE(at::equal(gy[0], at::tensor({0.f, 0.f, 2.f, 2.f, 2.f, 0.f})));
}

}  // namespace
}  // namespace mpitune
