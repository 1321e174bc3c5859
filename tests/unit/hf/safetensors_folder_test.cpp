// SafetensorsFolder and SafetensorsWriter::write_folder: single-file and sharded folders (the
// index as transformers writes it), greedy sharding, routing reads to the right shard, shards
// opened only when used, stale files of an earlier save, and the errors for folders without
// weights, broken indexes and unknown tensors.
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "mpitune/core/error.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "safetensors_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

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

// Tensor `name` of n fp32 values, value i = base + i.
void add_f32(SafetensorsWriter& w, const std::string& name, int64_t n, float base) {
  w.add(name, TensorDType::F32, {n}, [n, base](void* dst) {
    auto* f = static_cast<float*>(dst);
    for (int64_t i = 0; i < n; ++i) f[i] = base + static_cast<float>(i);
  });
}

void expect_values(const SafetensorsFolder& folder, const std::string& name, int64_t n, float base) {
  ASSERT_TRUE(folder.has(name)) << name;
  EXPECT_EQ(folder.entry(name).numel(), n);
  std::vector<float> out(static_cast<size_t>(n));
  folder.read_f32(name, 0, n, out.data());
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(out[static_cast<size_t>(i)], base + i) << name;
}

// Five tensors of 400, 400, 800, 2000 and 40 bytes.
SafetensorsWriter five_tensors() {
  SafetensorsWriter w;
  add_f32(w, "model.embed", 100, 0);
  add_f32(w, "model.layers.0.w", 100, 1000);
  add_f32(w, "model.layers.1.w", 200, 2000);
  add_f32(w, "lm_head.big", 500, 3000);
  add_f32(w, "model.norm", 10, 4000);
  return w;
}

TEST(SafetensorsFolder, SingleFile) {
  testing::TempDir dir;
  const auto files = five_tensors().write_folder(dir.path(), "model");
  EXPECT_EQ(files, std::vector<std::string>{dir.file("model.safetensors")});
  EXPECT_EQ(list(dir.path()), std::vector<std::string>{"model.safetensors"});
  const auto folder = SafetensorsFolder::open(dir.path());
  EXPECT_EQ(folder.dir(), dir.path());
  EXPECT_EQ(folder.names(), (std::vector<std::string>{"lm_head.big", "model.embed", "model.layers.0.w",
                                                      "model.layers.1.w", "model.norm"}));
  EXPECT_EQ(folder.files(), std::vector<std::string>{dir.file("model.safetensors")});
  expect_values(folder, "model.layers.1.w", 200, 2000);
  expect_values(folder, "model.norm", 10, 4000);
  EXPECT_FALSE(folder.has("model.layers.2.w"));
  // A limit the whole model fits in is one file, as with transformers.
  testing::TempDir dir2;
  EXPECT_EQ(five_tensors().write_folder(dir2.path(), "model", 3640).size(), 1u);
}

TEST(SafetensorsFolder, ShardedWithIndex) {
  testing::TempDir dir;
  // Limit 1000: [embed 400 + layers.0 400] (adding layers.1 would make 1600), [layers.1 800],
  // [lm_head 2000: larger than the limit, alone], [norm 40].
  const auto files = five_tensors().write_folder(dir.path() + "/out", "model", 1000);
  const std::string out = dir.path() + "/out";
  EXPECT_EQ(files, (std::vector<std::string>{
                       out + "/model-00001-of-00004.safetensors", out + "/model-00002-of-00004.safetensors",
                       out + "/model-00003-of-00004.safetensors", out + "/model-00004-of-00004.safetensors",
                       out + "/model.safetensors.index.json"}));
  // The index as transformers writes it: sorted keys, two-space indent, final newline.
  EXPECT_EQ(read_binary(out + "/model.safetensors.index.json"),
            "{\n"
            "  \"metadata\": {\n"
            "    \"total_size\": 3640\n"
            "  },\n"
            "  \"weight_map\": {\n"
            "    \"lm_head.big\": \"model-00003-of-00004.safetensors\",\n"
            "    \"model.embed\": \"model-00001-of-00004.safetensors\",\n"
            "    \"model.layers.0.w\": \"model-00001-of-00004.safetensors\",\n"
            "    \"model.layers.1.w\": \"model-00002-of-00004.safetensors\",\n"
            "    \"model.norm\": \"model-00004-of-00004.safetensors\"\n"
            "  }\n"
            "}\n");
  // Each shard is a complete file with its own offsets from 0 and the metadata.
  const auto shard1 = SafetensorsFile::open(out + "/model-00001-of-00004.safetensors");
  ASSERT_EQ(shard1->tensors().size(), 2u);
  EXPECT_EQ(shard1->tensors()[1].begin, 400u);
  EXPECT_EQ(shard1->metadata().at("format"), "pt");

  const auto folder = SafetensorsFolder::open(out);
  EXPECT_EQ(folder.names().size(), 5u);
  EXPECT_EQ(folder.files().size(), 4u);
  expect_values(folder, "model.embed", 100, 0);
  expect_values(folder, "model.layers.0.w", 100, 1000);
  expect_values(folder, "model.layers.1.w", 200, 2000);
  expect_values(folder, "lm_head.big", 500, 3000);
  expect_values(folder, "model.norm", 10, 4000);
  float part[3];
  folder.read_f32("lm_head.big", 497, 3, part);
  EXPECT_EQ(part[2], 3499.0f);
  EXPECT_EQ(folder.entry("model.layers.0.w").begin, 400u);
}

// A stem other than "model" (an adapter, say) and a re-save that changes the layout: files of
// the earlier save that the new one does not have are removed, other files are not.
TEST(SafetensorsFolder, ResaveRemovesStaleWeightFiles) {
  testing::TempDir dir;
  write_binary(dir.file("config.json"), "{}");
  write_binary(dir.file("adapter-00001-of-00002.safetensors"), "not ours");
  five_tensors().write_folder(dir.path(), "model");
  five_tensors().write_folder(dir.path(), "model", 1000);
  EXPECT_EQ(list(dir.path()), (std::vector<std::string>{
                                  "adapter-00001-of-00002.safetensors", "config.json",
                                  "model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                                  "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
                                  "model.safetensors.index.json"}));
  five_tensors().write_folder(dir.path(), "model", 2500);  // [embed..layers.1], [lm_head, norm]
  EXPECT_EQ(list(dir.path()), (std::vector<std::string>{
                                  "adapter-00001-of-00002.safetensors", "config.json",
                                  "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                  "model.safetensors.index.json"}));
  expect_values(SafetensorsFolder::open(dir.path()), "model.norm", 10, 4000);
  five_tensors().write_folder(dir.path(), "model");
  EXPECT_EQ(list(dir.path()), (std::vector<std::string>{"adapter-00001-of-00002.safetensors",
                                                        "config.json", "model.safetensors"}));
}

TEST(SafetensorsFolder, NoWeightsIsAConfigErrorSayingHowToConvert) {
  testing::TempDir dir;
  write_binary(dir.file("config.json"), "{}");
  write_binary(dir.file("pytorch_model.bin"), "pickle");
  try {
    SafetensorsFolder::open(dir.path());
    FAIL();
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.field(), "model.path");
    EXPECT_NE(msg.find(dir.path()), std::string::npos) << msg;
    EXPECT_NE(msg.find("pytorch_model.bin"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not read"), std::string::npos) << msg;
    EXPECT_NE(msg.find("save_pretrained"), std::string::npos) << msg;
    EXPECT_NE(msg.find("safe_serialization=True"), std::string::npos) << msg;
  }
  try {
    SafetensorsFolder::open(dir.file("missing"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "model.path");
    EXPECT_NE(std::string(e.what()).find("not a folder"), std::string::npos);
  }
}

TEST(SafetensorsFolder, BrokenIndexesAreInfraErrors) {
  testing::TempDir dir;
  five_tensors().write_folder(dir.path(), "model", 1000);
  const std::string index = dir.file("model.safetensors.index.json");
  const std::string good = read_binary(index);
  auto expect_error = [&](const std::string& text, const std::string& piece) {
    write_binary(index, text);
    try {
      SafetensorsFolder::open(dir.path());
      ADD_FAILURE() << "opened with index " << text;
    } catch (const InfraError& e) {
      EXPECT_NE(std::string(e.what()).find(index), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(piece), std::string::npos) << e.what();
    }
  };
  expect_error("{\"weight_map\": ", "invalid JSON");
  expect_error("[]", "no \"weight_map\"");
  expect_error(R"({"metadata": {}})", "no \"weight_map\"");
  expect_error(R"({"weight_map": {}})", "names no tensor");
  expect_error(R"({"weight_map": {"a": 3}})", "not a file name");
  expect_error(R"({"weight_map": {"a": "../model-00001-of-00004.safetensors"}})", "not the name of a file");
  expect_error(R"({"weight_map": {"a": "model-00009-of-00009.safetensors"}})",
               "'model-00009-of-00009.safetensors' (for 'a'), which is not in the folder");

  // The index names a tensor its shard does not have: found when it is used.
  write_binary(index, R"({"weight_map": {"model.embed": "model-00001-of-00004.safetensors",
                                          "ghost": "model-00002-of-00004.safetensors"}})");
  const auto folder = SafetensorsFolder::open(dir.path());
  expect_values(folder, "model.embed", 100, 0);
  EXPECT_TRUE(folder.has("ghost"));
  try {
    folder.entry("ghost");
    FAIL();
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find("'ghost'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("model-00002-of-00004.safetensors"), std::string::npos);
  }
  try {
    float x;
    folder.read_f32("model.nothing", 0, 1, &x);
    FAIL();
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find("'model.nothing'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(dir.path()), std::string::npos);
  }
  write_binary(index, good);
  EXPECT_EQ(SafetensorsFolder::open(dir.path()).names().size(), 5u);
}

// Shards are mapped when first used: a corrupt shard does not stop the others from being read,
// and is reported, naming it, when one of its tensors is asked for.
TEST(SafetensorsFolder, ShardsOpenWhenFirstUsed) {
  testing::TempDir dir;
  five_tensors().write_folder(dir.path(), "model", 1000);
  write_binary(dir.file("model-00003-of-00004.safetensors"), "garbage");
  const auto folder = SafetensorsFolder::open(dir.path());
  expect_values(folder, "model.norm", 10, 4000);
  try {
    folder.entry("lm_head.big");
    FAIL();
  } catch (const InfraError& e) {
    EXPECT_NE(std::string(e.what()).find("model-00003-of-00004.safetensors"), std::string::npos);
  }
  EXPECT_TRUE(folder.has("lm_head.big"));  // the index still says so
}

// Many threads read from a fresh folder at once: shards are opened once, under a lock, and
// reads (and their page releases) do not disturb each other. A copy shares the open shards.
TEST(SafetensorsFolder, ConcurrentReads) {
  testing::TempDir dir;
  SafetensorsWriter w;
  for (int t = 0; t < 8; ++t) add_f32(w, "t" + std::to_string(t), 40000, 100000.0f * t);
  w.write_folder(dir.path(), "model", 200000);  // 160 KB each: one tensor per shard
  ASSERT_EQ(list(dir.path()).size(), 9u);
  const auto folder = SafetensorsFolder::open(dir.path());
  const SafetensorsFolder copy = folder;
  std::vector<int> bad(8, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k)
    threads.emplace_back([&, k] {
      std::vector<float> out(40000);
      for (int round = 0; round < 20; ++round) {
        const int t = (k + round) % 8;
        const int64_t first = (k * 997 + round * 1013) % 30000;
        const SafetensorsFolder& f = (round % 2) ? copy : folder;
        f.read_f32("t" + std::to_string(t), first, 10000, out.data());
        for (int64_t i = 0; i < 10000; ++i)
          if (out[static_cast<size_t>(i)] != 100000.0f * t + static_cast<float>(first + i)) ++bad[k];
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad, std::vector<int>(8, 0));
}

}  // namespace
}  // namespace mpitune
