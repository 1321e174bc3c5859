// State bytes, checksums, atomic files and the checkpoint manifest (one process, no torch).
#include <gtest/gtest.h>

#include <cmath>

#include "mpitune/core/error.hpp"
#include "mpitune/train/checkpoint.hpp"
#include "mpitune/train/state_io.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

TEST(StateBytes, RoundTripAndTruncationIsAnError) {
  ByteWriter w;
  w.tag("head");
  w.i64(-5);
  w.u64(1ULL << 63);
  w.f64(-0.125);
  w.str("lr=0.001");
  const float f[2] = {1.5f, NAN};
  w.raw(f, sizeof f);
  const std::vector<uint8_t> bytes = w.bytes();
  ByteReader r(bytes, "test");
  r.expect_tag("head");
  EXPECT_EQ(r.i64(), -5);
  EXPECT_EQ(r.u64(), 1ULL << 63);
  EXPECT_EQ(r.f64(), -0.125);
  EXPECT_EQ(r.str(), "lr=0.001");
  float g[2];
  r.raw(g, sizeof g);
  EXPECT_EQ(g[0], 1.5f);
  EXPECT_TRUE(std::isnan(g[1]));
  EXPECT_TRUE(r.at_end());
  EXPECT_THROW(r.u64(), InfraError);

  ByteReader wrong(bytes, "test");
  EXPECT_THROW(wrong.expect_tag("other"), InfraError);
}

TEST(StateBytes, ChecksumSeesEveryByteAndTheLength) {
  std::vector<uint8_t> a(37);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 7);
  const uint64_t base = checksum64(a.data(), a.size());
  EXPECT_EQ(base, checksum64(a.data(), a.size()));
  for (size_t i : {size_t(0), size_t(8), size_t(36)}) {
    auto b = a;
    b[i] ^= 0x10;
    EXPECT_NE(checksum64(b.data(), b.size()), base) << i;
  }
  a.push_back(0);  // a trailing zero byte still changes it
  EXPECT_NE(checksum64(a.data(), a.size()), base);
  EXPECT_EQ(hex64(0xabcULL), "0000000000000abc");
}

TEST(StateFiles, AtomicWriteLeavesNoTempFileAndReplaces) {
  testing::TempDir dir;
  const std::string path = dir.file("sub/deeper/x.bin");
  make_dirs(dir.file("sub/deeper"));
  write_file_atomic(path, "abc", 3);
  write_file_atomic(path, "defg", 4);
  const auto bytes = read_file_bytes(path);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "defg");
  EXPECT_FALSE(file_exists(path + ".tmp"));
  EXPECT_THROW(read_file_bytes(dir.file("missing")), InfraError);
  EXPECT_THROW(write_file_atomic(dir.file("no/such/folder/x"), "a", 1), InfraError);
}

TEST(Manifest, RoundTripsAndRejectsDamage) {
  CheckpointManifest m;
  m.group_size = 2;
  m.trial = 7;
  m.step = 12;
  m.precision = "bf16";
  m.shape = "n_layer 2 n_head 4 d_model 64 seq_len 64 vocab 256";
  m.units = {{"root", 20608}, {"h.0", 49984}};
  m.files = {{"rank-0.bin", 100, 0x1234}, {"rank-1.bin", 101, 0xffffffffffffffffULL}};
  const CheckpointManifest back = CheckpointManifest::parse(m.to_text(), "x");
  EXPECT_EQ(back.to_text(), m.to_text());
  EXPECT_EQ(back.files[1].checksum, 0xffffffffffffffffULL);
  EXPECT_EQ(back.units[1].second, 49984);

  EXPECT_THROW(CheckpointManifest::parse("something else\n", "x"), InfraError);
  std::string text = m.to_text();
  EXPECT_THROW(CheckpointManifest::parse(text.substr(0, text.rfind("file =")), "x"), InfraError);  // a file missing
  EXPECT_THROW(CheckpointManifest::parse(text + "extra = 1\n", "x"), InfraError);
}

TEST(Manifest, LoadingWithoutAManifestSaysSo) {
  testing::TempDir dir;
  try {
    load_sharded_checkpoint(dir.path(), nullptr);
    FAIL() << "no error";
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find("no manifest"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mpitune
