// Writing safetensors files and sharded model folders (see safetensors.hpp).
//
// Tensors are laid out contiguously in the order added and each is produced by its callback
// only when its turn comes, into one reused buffer: exporting a model gathers one tensor at a
// time. Every file is written atomically (core/file_io.hpp's AtomicFile), so a reader never
// sees half a file. A folder is laid out as transformers' save_pretrained does it, and files of an earlier
// save with the same stem that the new one does not contain are removed afterwards: otherwise
// a stale model.safetensors would shadow a new index (readers prefer the single file).
#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/hf/safetensors.hpp"
#include "safetensors_header.hpp"

namespace mpitune {
namespace {

uint64_t bytes_of(TensorDType dtype, const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  for (const int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n * dtype_bytes(dtype);
}

// "<stem>-00002-of-00005.safetensors", as transformers names shards.
std::string shard_name(const std::string& stem, size_t index, size_t count) {
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, "-%05zu-of-%05zu.safetensors", index + 1, count);
  return stem + suffix;
}

// Whether `name` is one of the weight files a save with `stem` writes.
bool is_weight_file_of(const std::string& name, const std::string& stem) {
  if (name == stem + ".safetensors" || name == stem + ".safetensors.index.json") return true;
  if (name.size() <= stem.size() || name.compare(0, stem.size(), stem) != 0) return false;
  const std::string tail = name.substr(stem.size());
  // "-DDDDD-of-DDDDD.safetensors"
  const std::string pattern = "-#####-of-#####.safetensors";
  if (tail.size() != pattern.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i) {
    const bool digit = tail[i] >= '0' && tail[i] <= '9';
    if (pattern[i] == '#' ? !digit : tail[i] != pattern[i]) return false;
  }
  return true;
}

}  // namespace

void SafetensorsWriter::add(std::string name, TensorDType dtype, std::vector<int64_t> shape,
                            std::function<void(void* dst)> fill) {
  MPITUNE_CHECK(!name.empty() && name != "__metadata__",
                "safetensors tensor name '" + name + "' is reserved");
  for (const auto& item : items_)
    MPITUNE_CHECK(item.name != name, "safetensors tensor '" + name + "' added twice");
  MPITUNE_CHECK(static_cast<bool>(fill), "safetensors tensor '" + name + "' has no fill");
  uint64_t numel = 1;
  const uint64_t limit = std::numeric_limits<int64_t>::max() / dtype_bytes(dtype);
  for (const int64_t d : shape) {
    MPITUNE_CHECK(d >= 0, "safetensors tensor '" + name + "' has a negative dimension");
    MPITUNE_CHECK(d == 0 || numel <= limit / static_cast<uint64_t>(d),
                  "safetensors tensor '" + name + "' is too large");
    numel *= static_cast<uint64_t>(d);
  }
  items_.push_back(Item{std::move(name), dtype, std::move(shape), std::move(fill)});
}

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

uint64_t SafetensorsWriter::total_bytes() const {
  uint64_t total = 0;
  for (const auto& item : items_) total += bytes_of(item.dtype, item.shape);
  return total;
}

namespace {

// Writes `items` (a subset of a writer's, in order) as one safetensors file.
template <typename ItemList>
void write_items(const std::string& path, const ItemList& items,
                 const std::map<std::string, std::string>& metadata) {
  std::vector<TensorEntry> entries;
  uint64_t offset = 0;
  uint64_t largest = 0;
  for (const auto* item : items) {
    TensorEntry e;
    e.name = item->name;
    e.dtype = item->dtype;
    e.shape = item->shape;
    e.begin = offset;
    offset += bytes_of(item->dtype, item->shape);
    e.end = offset;
    largest = std::max(largest, e.end - e.begin);
    entries.push_back(std::move(e));
  }
  const std::string header = hf_detail::serialize_header(entries, metadata);
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(header.size() >> (8 * i));

  AtomicFile file(path);
  file.write(length, sizeof length);
  file.write(header.data(), header.size());
  // One buffer for the largest tensor, not value-initialised (fill writes every byte).
  const std::unique_ptr<unsigned char[]> buffer(new unsigned char[std::max<uint64_t>(largest, 1)]);
  for (size_t i = 0; i < entries.size(); ++i) {
    items[i]->fill(buffer.get());
    file.write(buffer.get(), entries[i].end - entries[i].begin);
  }
  file.commit();
}

}  // namespace

void SafetensorsWriter::write_file(const std::string& path) const {
  std::vector<const Item*> all;
  for (const auto& item : items_) all.push_back(&item);
  write_items(path, all, metadata_);
}

std::vector<std::string> SafetensorsWriter::write_folder(const std::string& folder,
                                                         const std::string& stem,
                                                         uint64_t max_shard_bytes) const {
  const std::string dir = folder.empty() ? "." : folder;
  MPITUNE_CHECK(!stem.empty() && stem.find('/') == std::string::npos,
                "safetensors file stem '" + stem + "' is not a file name");
  make_dirs(dir);

  // Greedy in add order: a shard takes tensors while they fit; a tensor larger than the limit
  // is alone in its shard.
  std::vector<std::vector<const Item*>> shards;
  uint64_t shard_bytes = 0;
  for (const auto& item : items_) {
    const uint64_t b = bytes_of(item.dtype, item.shape);
    if (shards.empty() || (max_shard_bytes > 0 && shard_bytes + b > max_shard_bytes)) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(&item);
    shard_bytes += b;
  }

  std::vector<std::string> written;
  if (shards.size() <= 1) {
    const std::string path = join_path(dir, stem + ".safetensors");
    write_items(path, shards.empty() ? std::vector<const Item*>{} : shards[0], metadata_);
    written.push_back(path);
  } else {
    nlohmann::json weight_map = nlohmann::json::object();
    for (size_t s = 0; s < shards.size(); ++s) {
      const std::string name = shard_name(stem, s, shards.size());
      write_items(join_path(dir, name), shards[s], metadata_);
      written.push_back(join_path(dir, name));
      for (const auto* item : shards[s]) weight_map[item->name] = name;
    }
    // As transformers writes it: sorted keys, indent 2, a final newline.
    const nlohmann::json index = {{"metadata", {{"total_size", total_bytes()}}},
                                  {"weight_map", weight_map}};
    const std::string text = index.dump(2, ' ', /*ensure_ascii=*/true) + "\n";
    const std::string path = join_path(dir, stem + ".safetensors.index.json");
    AtomicFile file(path);
    file.write(text.data(), text.size());
    file.commit();
    written.push_back(path);
  }

  std::set<std::string> keep;
  for (const auto& path : written) keep.insert(path.substr(path.find_last_of('/') + 1));
  bool removed = false;
  for (const auto& name : list_dir(dir)) {
    if (keep.count(name) || !is_weight_file_of(name, stem)) continue;
    remove_file(join_path(dir, name));
    removed = true;
  }
  if (removed) fsync_dir(dir);
  return written;
}

}  // namespace mpitune
