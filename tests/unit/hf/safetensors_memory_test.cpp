// Reading a slice of a large mapped file does not leave the file's pages in this process's
// resident set, and one file can be read from several threads at once.
//
// The resident set is measured around the read (/proc/self/statm, which counts file pages
// mapped into the process). So that the test can fail, a control touches the same bytes
// through a plain mapping and must see them arrive in the resident set.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <thread>

#include "mpitune/hf/safetensors.hpp"
#include "safetensors_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

constexpr int64_t kElems = 16 << 20;  // 64 MB of fp32

// A 64 MB file of one F32 tensor, value i = i, written without the writer (and its fsync).
// Returns its path; `data_start` is where the data section begins.
std::string write_big_file(const testing::TempDir& dir, uint64_t& data_start) {
  const std::string json = R"({"w":{"dtype":"F32","shape":[16777216],"data_offsets":[0,67108864]}})";
  const std::string path = dir.file("big.safetensors");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_GE(fd, 0);
  const std::string head = testing::assemble(json);
  data_start = head.size();
  EXPECT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  std::vector<float> block(1 << 20);
  for (int64_t b = 0; b < kElems; b += static_cast<int64_t>(block.size())) {
    for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<float>(b + static_cast<int64_t>(i));
    const size_t bytes = block.size() * sizeof(float);
    EXPECT_EQ(::write(fd, block.data(), bytes), static_cast<ssize_t>(bytes));
  }
  EXPECT_EQ(::close(fd), 0);
  return path;
}

TEST(SafetensorsMemory, SliceReadDoesNotGrowTheResidentSet) {
  testing::TempDir dir;
  uint64_t data_start = 0;
  const std::string path = write_big_file(dir, data_start);
  const auto f = SafetensorsFile::open(path);
  const TensorEntry& e = *f->find("w");
  const int64_t first = kElems / 4, count = kElems / 4;  // the second quarter: 16 MB
  const uint64_t slice_bytes = static_cast<uint64_t>(count) * 4;
  std::vector<float> out(static_cast<size_t>(count), -1.0f);  // resident before measuring

  const uint64_t before = testing::resident_bytes();
  f->read_f32(e, first, count, out.data());
  const uint64_t after = testing::resident_bytes();
  for (int64_t i = 0; i < count; i += 4099) ASSERT_EQ(out[static_cast<size_t>(i)], first + i);
  ASSERT_EQ(out.back(), static_cast<float>(first + count - 1));
  const int64_t growth = static_cast<int64_t>(after) - static_cast<int64_t>(before);
  // At most a few pages at the slice's ends and the kernel's fault-around remain mapped.
  EXPECT_LT(growth, static_cast<int64_t>(slice_bytes / 16)) << "resident set grew by " << growth;

  // Control: the same bytes touched through a plain mapping do enter the resident set.
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const size_t map_bytes = data_start + static_cast<size_t>(kElems) * 4;
  void* p = ::mmap(nullptr, map_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(p, MAP_FAILED);
  ::close(fd);
  const uint64_t control_before = testing::resident_bytes();
  const auto* bytes = static_cast<const volatile unsigned char*>(p);
  unsigned sum = 0;
  for (uint64_t off = data_start + slice_bytes; off < data_start + 2 * slice_bytes; off += 4096)
    sum += bytes[off];
  const uint64_t control_after = testing::resident_bytes();
  ::munmap(p, map_bytes);
  EXPECT_GT(control_after - control_before, slice_bytes * 3 / 4) << sum;
}

TEST(SafetensorsMemory, OneFileReadFromManyThreads) {
  testing::TempDir dir;
  const int64_t n = 1 << 20;
  SafetensorsWriter w;
  w.add("h", TensorDType::BF16, {n}, [n](void* dst) {
    auto* h = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(static_cast<float>(i % 256));
  });
  w.write_file(dir.file("h.safetensors"));
  const auto f = SafetensorsFile::open(dir.file("h.safetensors"));
  const TensorEntry& e = *f->find("h");
  std::vector<int> bad(6, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 6; ++k)
    threads.emplace_back([&, k] {
      // Overlapping ranges, so threads copy pages that others are releasing.
      std::vector<float> out(300000);
      for (int round = 0; round < 15; ++round) {
        const int64_t first = (k * 40009 + round * 50021) % (n - 300000);
        f->read_f32(e, first, 300000, out.data());
        for (int64_t i = 0; i < 300000; ++i)
          if (out[static_cast<size_t>(i)] != static_cast<float>((first + i) % 256)) ++bad[k];
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad, std::vector<int>(6, 0));
}

}  // namespace
}  // namespace mpitune
