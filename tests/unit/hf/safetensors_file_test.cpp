// SafetensorsFile and SafetensorsWriter::write_file: the exact bytes of small files (assembled
// by hand from the format's definition), round trips of every dtype, element-range reads that
// start and end anywhere (inside a tensor, at its ends, across pages and copy chunks, from a
// data section at an odd offset), metadata, and the writer's checks and atomicity.
#include <gtest/gtest.h>

#include <dirent.h>

#include <cmath>
#include <numeric>
#include <set>

#include "mpitune/core/error.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "safetensors_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::assemble;
using testing::raw_bytes;
using testing::read_binary;
using testing::write_binary;

std::vector<std::string> list(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (const dirent* e = readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") names.push_back(e->d_name);
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

template <typename T>
std::function<void(void*)> fill_with(std::vector<T> v) {
  return [v = std::move(v)](void* dst) {
    if (!v.empty()) std::memcpy(dst, v.data(), v.size() * sizeof(T));
  };
}

TEST(SafetensorsWriter, HeaderBytesAreTheReferenceLayout) {
  testing::TempDir dir;
  SafetensorsWriter w;
  w.add("attn.0", TensorDType::F32, {1, 2, 3}, fill_with(std::vector<float>{0, 1, 2, 3, 4, 5}));
  w.write_file(dir.file("a.safetensors"));
  // 95 bytes of compact JSON, one space to 96, then 24 bytes of data.
  const std::string json =
      R"({"__metadata__":{"format":"pt"},"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}} )";
  ASSERT_EQ(json.size(), 96u);
  const std::string data("\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40"
                         "\x00\x00\x80\x40\x00\x00\xa0\x40",
                         24);
  EXPECT_EQ(read_binary(dir.file("a.safetensors")), std::string("\x60\0\0\0\0\0\0\0", 8) + json + data);

  // Add order is data order (not sorted by name or dtype), a scalar has shape [].
  SafetensorsWriter w2;
  w2.add("b", TensorDType::BF16, {2}, fill_with(std::vector<uint16_t>{0x3F80, 0xC000}));
  w2.add("a", TensorDType::I8, {}, fill_with(std::vector<int8_t>{-3}));
  w2.write_file(dir.file("b.safetensors"));
  const std::string json2 =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},)"
      R"("a":{"dtype":"I8","shape":[],"data_offsets":[4,5]}}       )";  // 137 + 7 spaces
  ASSERT_EQ(json2.size(), 144u);
  EXPECT_EQ(read_binary(dir.file("b.safetensors")),
            std::string("\x90\0\0\0\0\0\0\0", 8) + json2 + std::string("\x80\x3f\x00\xc0\xfd", 5));
  EXPECT_EQ(w2.total_bytes(), 5u);
}

TEST(SafetensorsWriter, RoundTripsEveryDType) {
  testing::TempDir dir;
  const std::vector<float> quarter = {0.25f, -1.5f, 1024.0f, -0.0f, 3.0f, -2048.0f};
  std::vector<uint16_t> as_bf16, as_f16;
  for (float v : quarter) {
    as_bf16.push_back(f32_to_bf16(v));
    as_f16.push_back(f32_to_f16(v));
  }
  const std::vector<float> f32 = {1.5f, -2.25f, 1e-30f, 3.4e38f, -7.0f, 0.1f};
  const std::vector<double> f64 = {0.5, -1e300, 1e-300, 3.0, 1.0 / 3.0, -0.0};
  const std::vector<int64_t> i64 = {INT64_MIN, -1, 0, 1, INT64_MAX, 1LL << 40};
  const std::vector<int32_t> i32 = {INT32_MIN, -5, 0, 5, INT32_MAX, 1 << 20};
  const std::vector<int16_t> i16 = {-32768, -1, 0, 1, 32767, 300};
  const std::vector<int8_t> i8 = {-128, -1, 0, 1, 127, 50};
  const std::vector<uint8_t> u8 = {0, 1, 127, 128, 255, 77}, bools = {1, 0, 0, 1, 1, 0};
  SafetensorsWriter w;
  w.add("f32", TensorDType::F32, {2, 3}, fill_with(f32));
  w.add("bf16", TensorDType::BF16, {3, 2}, fill_with(as_bf16));
  w.add("f16", TensorDType::F16, {6}, fill_with(as_f16));
  w.add("f64", TensorDType::F64, {1, 6}, fill_with(f64));
  w.add("i64", TensorDType::I64, {6}, fill_with(i64));
  w.add("i32", TensorDType::I32, {6}, fill_with(i32));
  w.add("i16", TensorDType::I16, {6}, fill_with(i16));
  w.add("i8", TensorDType::I8, {6}, fill_with(i8));
  w.add("u8", TensorDType::U8, {6}, fill_with(u8));
  w.add("bool", TensorDType::BOOL, {6}, fill_with(bools));
  w.add("empty", TensorDType::F32, {0, 5}, [](void*) {});
  w.set_metadata("producer", "mpitune test");
  w.write_file(dir.file("all.safetensors"));

  const auto f = SafetensorsFile::open(dir.file("all.safetensors"));
  EXPECT_EQ(f->path(), dir.file("all.safetensors"));
  EXPECT_EQ(f->metadata(), (std::map<std::string, std::string>{{"format", "pt"},
                                                              {"producer", "mpitune test"}}));
  std::vector<std::string> order;
  for (const auto& t : f->tensors()) order.push_back(t.name);
  EXPECT_EQ(order, (std::vector<std::string>{"f32", "bf16", "f16", "f64", "i64", "i32", "i16",
                                             "i8", "u8", "bool", "empty"}));
  EXPECT_EQ(f->find("bf16")->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(f->find("bf16")->dtype, TensorDType::BF16);
  EXPECT_EQ(f->find("nope"), nullptr);

  auto raw = [&](const std::string& name) {
    const TensorEntry& e = *f->find(name);
    std::string out(static_cast<size_t>(e.numel()) * dtype_bytes(e.dtype), '\0');
    f->read_raw(e, 0, e.numel(), out.data());
    return out;
  };
  auto as_f32 = [&](const std::string& name) {
    const TensorEntry& e = *f->find(name);
    std::vector<float> out(static_cast<size_t>(e.numel()));
    f->read_f32(e, 0, e.numel(), out.data());
    return out;
  };
  EXPECT_EQ(raw("f32"), raw_bytes(f32));
  EXPECT_EQ(raw("bf16"), raw_bytes(as_bf16));
  EXPECT_EQ(raw("f16"), raw_bytes(as_f16));
  EXPECT_EQ(raw("f64"), raw_bytes(f64));
  EXPECT_EQ(raw("i64"), raw_bytes(i64));
  EXPECT_EQ(raw("i32"), raw_bytes(i32));
  EXPECT_EQ(raw("i16"), raw_bytes(i16));
  EXPECT_EQ(raw("i8"), raw_bytes(i8));
  EXPECT_EQ(raw("u8"), raw_bytes(u8));
  EXPECT_EQ(raw("bool"), raw_bytes(bools));
  EXPECT_EQ(as_f32("f32"), f32);
  EXPECT_EQ(as_f32("bf16"), quarter);  // all exactly representable in bf16 and f16
  EXPECT_EQ(as_f32("f16"), quarter);
  EXPECT_TRUE(std::signbit(as_f32("bf16")[3]));
  const auto from64 = as_f32("f64");
  for (size_t i = 0; i < f64.size(); ++i) EXPECT_EQ(from64[i], static_cast<float>(f64[i]));
  EXPECT_EQ(from64[1], -INFINITY);  // -1e300 overflows a float
  EXPECT_EQ(from64[2], 0.0f);
  EXPECT_TRUE(as_f32("empty").empty());
  for (const char* name : {"i64", "i32", "i16", "i8", "u8", "bool"}) {
    float out[6];
    EXPECT_THROW(f->read_f32(*f->find(name), 0, 6, out), InfraError) << name;
  }
}

// Elements [first, first + count) for many ranges of three adjacent tensors: the bytes of a
// neighbour never leak in, and ranges outside a tensor are refused.
TEST(SafetensorsFile, RangeReadsStopAtTensorEnds) {
  testing::TempDir dir;
  std::vector<uint16_t> a(1000);
  std::vector<float> b(777), a_values(1000);
  std::vector<uint16_t> c(5000);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = f32_to_bf16(static_cast<float>(i) - 500.5f);
    a_values[i] = bf16_to_f32(a[i]);  // what the file holds: bf16 has 8 significant bits
  }
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.5f * static_cast<float>(i);
  for (size_t i = 0; i < c.size(); ++i) c[i] = f32_to_f16(static_cast<float>(i % 2048));
  SafetensorsWriter w;
  w.add("a", TensorDType::BF16, {10, 100}, fill_with(a));
  w.add("b", TensorDType::F32, {777}, fill_with(b));
  w.add("c", TensorDType::F16, {50, 100}, fill_with(c));
  w.write_file(dir.file("m.safetensors"));
  const auto f = SafetensorsFile::open(dir.file("m.safetensors"));
  const TensorEntry &ea = *f->find("a"), &eb = *f->find("b"), &ec = *f->find("c");
  EXPECT_EQ(eb.begin, ea.end);
  EXPECT_EQ(ec.begin, eb.end);

  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {0, 1}, {0, 777}, {776, 1}, {100, 577}, {1, 775}, {300, 0}, {777, 0}, {0, 0}};
  for (const auto& [first, count] : ranges) {
    std::vector<float> out(static_cast<size_t>(count) + 1, -99.0f);  // one guard element
    f->read_f32(eb, first, count, out.data());
    for (int64_t i = 0; i < count; ++i) ASSERT_EQ(out[i], b[first + i]) << first << "+" << i;
    EXPECT_EQ(out[count], -99.0f) << "wrote past count";
  }
  for (const auto& [first, count] :
       std::vector<std::pair<int64_t, int64_t>>{{0, 1000}, {999, 1}, {123, 456}, {998, 2}}) {
    std::vector<float> out(static_cast<size_t>(count));
    f->read_f32(ea, first, count, out.data());
    for (int64_t i = 0; i < count; ++i) ASSERT_EQ(out[i], a_values[first + i]);
  }
  for (const auto& [first, count] :
       std::vector<std::pair<int64_t, int64_t>>{{0, 5000}, {4999, 1}, {2047, 3}, {1, 4998}}) {
    std::vector<uint16_t> out(static_cast<size_t>(count));
    f->read_raw(ec, first, count, out.data());
    for (int64_t i = 0; i < count; ++i) ASSERT_EQ(out[i], c[first + i]);
  }
  float sink[1000];
  EXPECT_THROW(f->read_f32(eb, 0, 778, sink), InfraError);
  EXPECT_THROW(f->read_f32(eb, 777, 1, sink), InfraError);
  EXPECT_THROW(f->read_f32(eb, -1, 2, sink), InfraError);
  EXPECT_THROW(f->read_f32(eb, 5, -1, sink), InfraError);
  EXPECT_THROW(f->read_raw(ea, 1, 1000, sink), InfraError);
  EXPECT_THROW(f->read_raw(ea, INT64_MAX, INT64_MAX, sink), InfraError);
  try {
    f->read_f32(ec, 4990, 11, sink);
    FAIL();
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("m.safetensors")), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'c'"), std::string::npos);
  }
}

// A tensor of several copy chunks (4 MB each) in a file whose data section starts at an odd
// offset (another writer need not pad the header), read in ranges that straddle chunk and page
// boundaries at odd element positions.
TEST(SafetensorsFile, LargeUnalignedTensorReadsAcrossChunks) {
  testing::TempDir dir;
  const int64_t n = 5'000'001;  // ~10 MB of bf16
  std::vector<uint16_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = static_cast<uint16_t>((i * 2654435761u) >> 7);
  const std::string json = R"({"big":{"dtype":"BF16","shape":[5000001],"data_offsets":[0,10000002]}} )";
  ASSERT_EQ(json.size() % 2, 1u);  // the data starts at an odd byte
  write_binary(dir.file("odd.safetensors"), assemble(json, raw_bytes(v)));
  const auto f = SafetensorsFile::open(dir.file("odd.safetensors"));
  const TensorEntry& e = *f->find("big");
  EXPECT_TRUE(f->metadata().empty());
  for (const auto& [first, count] : std::vector<std::pair<int64_t, int64_t>>{
           {0, n}, {1, n - 1}, {2'097'151, 2'097'154}, {n - 3, 3}, {4093, 4099}}) {
    std::vector<float> out(static_cast<size_t>(count));
    f->read_f32(e, first, count, out.data());
    for (int64_t i = 0; i < count; ++i)
      ASSERT_EQ(testing::bits_of(out[static_cast<size_t>(i)]),
                static_cast<uint32_t>(v[static_cast<size_t>(first + i)]) << 16)
          << first << "+" << i;
    std::vector<uint16_t> raw(static_cast<size_t>(count));
    f->read_raw(e, first, count, raw.data());
    ASSERT_TRUE(std::equal(raw.begin(), raw.end(), v.begin() + first));
  }
}

TEST(SafetensorsWriter, RefusesBadTensors) {
  SafetensorsWriter w;
  w.add("a", TensorDType::F32, {2}, [](void*) {});
  EXPECT_THROW(w.add("a", TensorDType::F32, {2}, [](void*) {}), InfraError);  // twice
  EXPECT_THROW(w.add("__metadata__", TensorDType::F32, {2}, [](void*) {}), InfraError);
  EXPECT_THROW(w.add("", TensorDType::F32, {2}, [](void*) {}), InfraError);
  EXPECT_THROW(w.add("b", TensorDType::F32, {2, -1}, [](void*) {}), InfraError);
  EXPECT_THROW(w.add("c", TensorDType::F32, {1LL << 40, 1LL << 40}, [](void*) {}), InfraError);
  EXPECT_THROW(w.add("d", TensorDType::F32, {2}, nullptr), InfraError);
  EXPECT_EQ(w.total_bytes(), 8u);  // only "a" was added
}

// A fill that throws leaves the earlier file as it was and no temp file behind.
TEST(SafetensorsWriter, FailedWriteLeavesTheOldFile) {
  testing::TempDir dir;
  SafetensorsWriter good;
  good.add("w", TensorDType::F32, {1}, fill_with(std::vector<float>{42.0f}));
  good.write_file(dir.file("m.safetensors"));
  const std::string before = read_binary(dir.file("m.safetensors"));

  SafetensorsWriter bad;
  bad.add("w", TensorDType::F32, {1}, fill_with(std::vector<float>{1.0f}));
  bad.add("x", TensorDType::F32, {1}, [](void*) { throw std::runtime_error("gather failed"); });
  EXPECT_THROW(bad.write_file(dir.file("m.safetensors")), std::runtime_error);
  EXPECT_EQ(read_binary(dir.file("m.safetensors")), before);
  EXPECT_EQ(list(dir.path()), std::vector<std::string>{"m.safetensors"});

  EXPECT_THROW(good.write_file(dir.file("no/such/folder/m.safetensors")), InfraError);
}

}  // namespace
}  // namespace mpitune
