// safetensors, read and written by mpitune itself (the format of Hugging Face model folders).
//
// A file is: an 8-byte little-endian header length N; N bytes of JSON
//   {"<name>": {"dtype": "BF16", "shape": [rows, cols], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"format": "pt"}}
// (padded with spaces to a multiple of 8 bytes); then the data section, each tensor's bytes
// row-major and little-endian at [begin, end) relative to the data section's start.
// A sharded folder has model.safetensors.index.json: {"metadata": {"total_size": ...},
// "weight_map": {"<name>": "model-00001-of-00002.safetensors", ...}}.
//
// Reading is memory-mapped and by element range, so a ZeRO-3 rank reads only the bytes of the
// tensors that overlap its own slices: read_f32 touches only the pages of the range it copies
// and gives them back to the kernel afterwards (madvise), so the resident set does not grow
// with the file. No torch here; dtype conversion is done in plain C++ (bf16/f16 -> f32 exact).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mpitune {

enum class TensorDType { F32, BF16, F16, F64, I64, I32, I16, I8, U8, BOOL };

size_t dtype_bytes(TensorDType t);
const char* dtype_name(TensorDType t);  // "F32", "BF16", ...
// Throws InfraError naming `where` for an unknown dtype string.
TensorDType parse_dtype(const std::string& name, const std::string& where);

// Conversions as torch does them: widening is exact; narrowing rounds to nearest even, keeps
// NaN a NaN and overflows to infinity.
float bf16_to_f32(uint16_t v);
uint16_t f32_to_bf16(float v);
float f16_to_f32(uint16_t v);
uint16_t f32_to_f16(float v);

struct TensorEntry {
  std::string name;
  TensorDType dtype = TensorDType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets of the data, relative to the data section
  uint64_t end = 0;
  int64_t numel() const;  // product of shape (1 for a scalar)
};

class SafetensorsFile {
 public:
  // Maps the file read-only and parses its header (nothing else is read). Throws InfraError
  // naming the file and the problem for a malformed file: too short, a header length past the
  // end, invalid JSON, an unknown dtype, offsets out of range, overlapping, or not matching
  // dtype x shape.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  virtual ~SafetensorsFile() = default;

  virtual const std::string& path() const = 0;
  virtual const std::vector<TensorEntry>& tensors() const = 0;  // in data-offset order
  virtual const TensorEntry* find(const std::string& name) const = 0;
  virtual const std::map<std::string, std::string>& metadata() const = 0;

  // Elements [first, first + count) of `t`, row-major, converted to fp32 (float types only;
  // integer types are InfraError). Touches only the pages of those bytes and releases them
  // after copying. InfraError when the range is outside the tensor.
  virtual void read_f32(const TensorEntry& t, int64_t first, int64_t count, float* out) const = 0;
  // The same elements' raw bytes in the stored dtype (any dtype).
  virtual void read_raw(const TensorEntry& t, int64_t first, int64_t count, void* out) const = 0;
};

// The weights of a Hugging Face model folder: model.safetensors, or
// model.safetensors.index.json and its shards (each shard mapped on first use).
class SafetensorsFolder {
 public:
  // Throws ConfigError("model.path", ...) when the folder has neither file (saying that
  // pytorch_model.bin checkpoints are not read and how to convert them), InfraError when a file
  // is malformed or the index names a missing shard.
  static SafetensorsFolder open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  bool has(const std::string& name) const;
  // Throws InfraError naming the tensor and the folder when it is not there.
  const TensorEntry& entry(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  void read_f32(const std::string& name, int64_t first, int64_t count, float* out) const;
  void read_raw(const std::string& name, int64_t first, int64_t count, void* out) const;
  // The files read (model.safetensors or the shards), for sizes and checks.
  std::vector<std::string> files() const;

 private:
  struct Shard;  // one file, mapped on first use under its own lock (safetensors_folder.cpp)
  using Shards = std::map<std::string, std::unique_ptr<Shard>>;  // file name -> shard
  std::string dir_;
  std::map<std::string, std::string> weight_map_;  // tensor -> file name
  std::shared_ptr<const Shards> shards_;  // fixed at open(); copies of a folder share it
  const SafetensorsFile& file_of(const std::string& name) const;
};

// Writes safetensors: tensors in the order added, each filled by its callback when the file is
// written (so a writer never holds more than one tensor's bytes).
class SafetensorsWriter {
 public:
  // `fill(dst)` writes exactly numel(shape) x dtype_bytes(dtype) bytes to dst.
  void add(std::string name, TensorDType dtype, std::vector<int64_t> shape,
           std::function<void(void* dst)> fill);
  void set_metadata(const std::string& key, const std::string& value);  // "format": "pt" is set by default
  uint64_t total_bytes() const;  // data bytes of all tensors

  // One file, written atomically (temp file, fsync, rename). InfraError on I/O failure.
  void write_file(const std::string& path) const;
  // Into folder `dir`: <stem>.safetensors when the data fit in max_shard_bytes (0: no limit),
  // else <stem>-00001-of-0000N.safetensors ... and <stem>.safetensors.index.json, as
  // transformers' save_pretrained names them. Returns the files written (paths: the data files,
  // then the index). Weight files of an earlier save with the same stem that this one does not
  // write are removed (a stale model.safetensors would shadow a new index).
  std::vector<std::string> write_folder(const std::string& dir, const std::string& stem,
                                        uint64_t max_shard_bytes = 0) const;

 private:
  struct Item {
    std::string name;
    TensorDType dtype;
    std::vector<int64_t> shape;
    std::function<void(void*)> fill;
  };
  std::vector<Item> items_;
  std::map<std::string, std::string> metadata_{{"format", "pt"}};
};

}  // namespace mpitune
