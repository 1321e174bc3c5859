// mpitune's conversions and files against torch itself: safetensors_torch_reference.py (run
// once, by one test, with Debian's /usr/bin/python3: ~1.3 s, mostly importing torch) rounds the
// floats chosen here with torch, widens every 16-bit pattern with torch, and writes a
// safetensors file with its own 30-line writer. The tests check that
//  - f32 -> bf16/f16 give torch's bits (NaN: a NaN; torch's vector code writes 0xFFFF for
//    bf16, its scalar code 0x7FC0), bf16/f16 -> f32 give torch's bits for every pattern;
//  - the file written by SafetensorsWriter from the same tensors is byte for byte the file
//    python wrote (header JSON, padding, data);
//  - reading python's file gives torch's values (read_f32) and bytes (read_raw).
// Without python3-torch (mpi_scripts/install_deps.sh installs it) the test is skipped, as the
// project's other python tests are.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <random>

#include <nlohmann/json.hpp>

#include "mpitune/hf/safetensors.hpp"
#include "safetensors_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using testing::bits_of;
using testing::float_of;
using testing::read_binary;

template <typename T>
std::vector<T> read_array(const std::string& path) {
  const std::string bytes = read_binary(path);
  std::vector<T> v(bytes.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
  return v;
}

// Runs the script once (each ctest entry is its own process: one torch import per run) on the
// floats chosen here; returns its exit status.
int run_reference(const testing::TempDir& dir, std::vector<float>& inputs) {
  // The usual suspects, then random bit patterns and random floats of f16's range.
  inputs = {0.0f,      -0.0f,     1.0f,          0.1f,                 65504.0f,
            65520.0f,  65519.99f, 1e-8f,         5.96e-8f,             2.98e-8f,
            6.1e-5f,   3.4028235e38f, INFINITY,  -INFINITY,            std::nanf(""),
            float_of(0x7F800001), float_of(0x00018000)};
  std::mt19937 rng(77);
  for (int i = 0; i < 100000; ++i) inputs.push_back(float_of(rng()));
  std::uniform_int_distribution<uint32_t> exponent(95, 145), mantissa(0, 0x7FFFFF);
  for (int i = 0; i < 100000; ++i)
    inputs.push_back(float_of(((rng() & 1u) << 31) | (exponent(rng) << 23) | mantissa(rng)));
  testing::write_binary(dir.file("inputs.f32"), testing::raw_bytes(inputs));
  const std::string cmd = "/usr/bin/python3 " MPITUNE_SOURCE_DIR
                          "/tests/unit/hf/safetensors_torch_reference.py " +
                          dir.path() + " 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void check_narrowing(const testing::TempDir& dir, const std::vector<float>& inputs) {
  const auto bf16 = read_array<uint16_t>(dir.file("to_bf16.u16"));
  const auto f16 = read_array<uint16_t>(dir.file("to_f16.u16"));
  ASSERT_EQ(bf16.size(), inputs.size());
  ASSERT_EQ(f16.size(), inputs.size());
  size_t nan = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const float x = inputs[i];
    if (std::isnan(x)) {
      ++nan;
      ASSERT_TRUE(std::isnan(bf16_to_f32(bf16[i])));  // torch's is a NaN ...
      ASSERT_TRUE(std::isnan(f16_to_f32(f16[i])));
      ASSERT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(x))));  // ... and so is ours
      ASSERT_TRUE(std::isnan(f16_to_f32(f32_to_f16(x))));
      continue;
    }
    ASSERT_EQ(f32_to_bf16(x), bf16[i]) << std::hexfloat << x;
    ASSERT_EQ(f32_to_f16(x), f16[i]) << std::hexfloat << x;
  }
  EXPECT_GT(nan, 0u);
}

void check_widening(const testing::TempDir& dir) {
  const auto from_bf16 = read_array<uint32_t>(dir.file("from_bf16.f32"));
  const auto from_f16 = read_array<uint32_t>(dir.file("from_f16.f32"));
  ASSERT_EQ(from_bf16.size(), 65536u);
  ASSERT_EQ(from_f16.size(), 65536u);
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    if (std::isnan(float_of(from_f16[i])))
      ASSERT_TRUE(std::isnan(f16_to_f32(h))) << std::hex << i;
    else
      ASSERT_EQ(bits_of(f16_to_f32(h)), from_f16[i]) << std::hex << i;
    ASSERT_EQ(bits_of(bf16_to_f32(h)), from_bf16[i]) << std::hex << i;  // NaNs too: a shift
  }
}

void check_writer(const testing::TempDir& dir) {
  const auto manifest = nlohmann::json::parse(read_binary(dir.file("tensors.json")));
  SafetensorsWriter w;
  for (const auto& n : manifest.at("order")) {
    const std::string name = n.get<std::string>();
    const auto& t = manifest.at("tensors").at(name);
    auto bytes = std::make_shared<std::string>(read_binary(dir.file(t.at("raw").get<std::string>())));
    w.add(name, parse_dtype(t.at("dtype").get<std::string>(), "manifest"),
          t.at("shape").get<std::vector<int64_t>>(),
          [bytes](void* dst) {
            if (!bytes->empty()) std::memcpy(dst, bytes->data(), bytes->size());
          });
  }
  w.write_file(dir.file("mpitune.safetensors"));
  const std::string ours = read_binary(dir.file("mpitune.safetensors"));
  const std::string theirs = read_binary(dir.file("python.safetensors"));
  EXPECT_EQ(ours.size(), theirs.size());
  EXPECT_TRUE(ours == theirs) << "header ours:   " << ours.substr(8, 200)
                              << "\nheader theirs: " << theirs.substr(8, 200);
}

void check_reader(const testing::TempDir& dir) {
  const auto manifest = nlohmann::json::parse(read_binary(dir.file("tensors.json")));
  const auto file = SafetensorsFile::open(dir.file("python.safetensors"));
  EXPECT_EQ(file->metadata().at("format"), "pt");
  ASSERT_EQ(file->tensors().size(), manifest.at("order").size());
  for (const auto& [name, t] : manifest.at("tensors").items()) {
    const TensorEntry* e = file->find(name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(dtype_name(e->dtype), t.at("dtype").get<std::string>());
    EXPECT_EQ(e->shape, t.at("shape").get<std::vector<int64_t>>());
    const std::string raw = read_binary(dir.file(t.at("raw").get<std::string>()));
    std::string got(raw.size(), '\0');
    file->read_raw(*e, 0, e->numel(), got.data());
    EXPECT_TRUE(got == raw) << name;
    if (t.contains("f32")) {
      const auto want = read_array<uint32_t>(dir.file(t.at("f32").get<std::string>()));
      std::vector<float> values(static_cast<size_t>(e->numel()));
      file->read_f32(*e, 0, e->numel(), values.data());
      ASSERT_EQ(values.size(), want.size()) << name;
      for (size_t i = 0; i < values.size(); ++i)
        EXPECT_EQ(bits_of(values[i]), want[i]) << name << "[" << i << "]";
    }
  }
}

TEST(SafetensorsTorch, ConversionsAndFilesMatchTorch) {
  testing::TempDir dir("mpitune-st-torch");
  std::vector<float> inputs;
  const int status = run_reference(dir, inputs);
  // python3-torch is a test dependency (mpi_scripts/install_deps.sh): without it this fails.
  ASSERT_NE(status, 77) << "/usr/bin/python3 cannot import torch: install python3-torch";
  ASSERT_EQ(status, 0) << "safetensors_torch_reference.py failed";
  {
    SCOPED_TRACE("f32 -> bf16/f16 against torch");
    check_narrowing(dir, inputs);
  }
  {
    SCOPED_TRACE("bf16/f16 -> f32 against torch");
    check_widening(dir);
  }
  {
    SCOPED_TRACE("SafetensorsWriter against python's writer");
    check_writer(dir);
  }
  {
    SCOPED_TRACE("SafetensorsFile reading python's file");
    check_reader(dir);
  }
}

}  // namespace
}  // namespace mpitune
