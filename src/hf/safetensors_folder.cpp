// The weights of a Hugging Face model folder (see safetensors.hpp): model.safetensors, or the
// shards that model.safetensors.index.json names.
//
// open() reads only the index (or the one file's header); each shard is mapped the first time
// one of its tensors is asked for, so a rank that loads a few layers of a sharded model maps
// only the shards holding them. Shards open under their own lock: several threads may ask for
// tensors of a folder at once. As transformers does, a folder holding both files is read
// through model.safetensors.
#include <mutex>

#include <nlohmann/json.hpp>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/hf/safetensors.hpp"

namespace mpitune {
namespace {

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr const char* kField = "model.path";

[[noreturn]] void no_weights(const std::string& dir) {
  const bool has_bin = is_regular_file(join_path(dir, "pytorch_model.bin")) ||
                       is_regular_file(join_path(dir, "pytorch_model.bin.index.json"));
  throw ConfigError(kField,
                    "'" + dir + "' has no " + kSingleFile + " or " + kIndexFile +
                        (has_bin ? " (it has a pytorch_model.bin, and" : " (and") +
                        " pytorch_model.bin checkpoints are not read: they are pickles)",
                    "convert the folder with transformers: "
                    "AutoModelForCausalLM.from_pretrained(path).save_pretrained(path, "
                    "safe_serialization=True)");
}

// tensor -> shard file name, from model.safetensors.index.json.
std::map<std::string, std::string> read_weight_map(const std::string& dir, const std::string& index) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(read_file_text(index));
  } catch (const nlohmann::json::exception& e) {
    throw InfraError(index + ": invalid JSON: " + e.what());
  }
  if (!root.is_object() || !root.contains("weight_map") || !root.at("weight_map").is_object())
    throw InfraError(index + ": has no \"weight_map\" object (tensor name -> shard file)");
  std::map<std::string, std::string> weight_map;
  for (const auto& [name, file] : root.at("weight_map").items()) {
    if (!file.is_string())
      throw InfraError(index + ": weight_map['" + name + "'] is " + file.dump() +
                       ", not a file name");
    const std::string f = file.get<std::string>();
    // Shards are files of this folder; a path could name any file on the machine.
    if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..")
      throw InfraError(index + ": weight_map['" + name + "'] is '" + f +
                       "', not the name of a file in " + dir);
    weight_map[name] = f;
  }
  if (weight_map.empty()) throw InfraError(index + ": weight_map names no tensor");
  return weight_map;
}

}  // namespace

struct SafetensorsFolder::Shard {
  std::string path;
  std::mutex mutex;
  std::unique_ptr<SafetensorsFile> file;  // set on first use, then never changed

  const SafetensorsFile& get() {
    const std::lock_guard<std::mutex> lock(mutex);
    if (!file) file = SafetensorsFile::open(path);
    return *file;
  }
};

SafetensorsFolder SafetensorsFolder::open(const std::string& dir) {
  if (!is_directory(dir))
    throw ConfigError(kField, "'" + dir + "' is not a folder",
                      "give the folder of a Hugging Face model (config.json, model.safetensors)");
  SafetensorsFolder folder;
  folder.dir_ = dir;
  auto shards = std::make_shared<Shards>();
  const std::string single = join_path(dir, kSingleFile);
  const std::string index = join_path(dir, kIndexFile);
  if (is_regular_file(single)) {
    auto shard = std::make_unique<Shard>();
    shard->path = single;
    shard->file = SafetensorsFile::open(single);  // its header is the list of tensors
    for (const auto& t : shard->file->tensors()) folder.weight_map_[t.name] = kSingleFile;
    (*shards)[kSingleFile] = std::move(shard);
  } else if (is_regular_file(index)) {
    folder.weight_map_ = read_weight_map(dir, index);
    for (const auto& [name, file] : folder.weight_map_) {
      if (shards->count(file)) continue;
      auto shard = std::make_unique<Shard>();
      shard->path = join_path(dir, file);
      if (!is_regular_file(shard->path))
        throw InfraError(index + ": names shard '" + file + "' (for '" + name +
                         "'), which is not in the folder");
      (*shards)[file] = std::move(shard);
    }
  } else {
    no_weights(dir);
  }
  folder.shards_ = std::move(shards);
  return folder;
}

bool SafetensorsFolder::has(const std::string& name) const { return weight_map_.count(name) != 0; }

const SafetensorsFile& SafetensorsFolder::file_of(const std::string& name) const {
  const auto it = weight_map_.find(name);
  if (it == weight_map_.end())
    throw InfraError("tensor '" + name + "' is not in the model folder " + dir_ + " (" +
                     std::to_string(weight_map_.size()) + " tensors)");
  return shards_->at(it->second)->get();
}

const TensorEntry& SafetensorsFolder::entry(const std::string& name) const {
  const SafetensorsFile& file = file_of(name);
  const TensorEntry* e = file.find(name);
  if (e == nullptr)
    throw InfraError(join_path(dir_, kIndexFile) + ": says tensor '" + name +
                     "' is in " + file.path() + ", which does not have it");
  return *e;
}

std::vector<std::string> SafetensorsFolder::names() const {
  std::vector<std::string> out;
  out.reserve(weight_map_.size());
  for (const auto& [name, file] : weight_map_) out.push_back(name);
  return out;
}

void SafetensorsFolder::read_f32(const std::string& name, int64_t first, int64_t count,
                                 float* out) const {
  file_of(name).read_f32(entry(name), first, count, out);
}

void SafetensorsFolder::read_raw(const std::string& name, int64_t first, int64_t count,
                                 void* out) const {
  file_of(name).read_raw(entry(name), first, count, out);
}

std::vector<std::string> SafetensorsFolder::files() const {
  std::vector<std::string> out;
  if (!shards_) return out;  // a default-constructed folder
  for (const auto& [file, shard] : *shards_) out.push_back(shard->path);
  return out;
}

}  // namespace mpitune
