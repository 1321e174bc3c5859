// Parsing and writing safetensors headers (see safetensors_header.hpp).
//
// A header comes from a downloaded file, so every field is checked before any offset is used:
// the reader then trusts [begin, end) to lie inside the mapping and to hold numel elements.
#include "safetensors_header.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "mpitune/core/error.hpp"

namespace mpitune::hf_detail {
namespace {

using nlohmann::json;

constexpr const char* kMetadataKey = "__metadata__";

[[noreturn]] void malformed(const std::string& where, const std::string& problem) {
  throw InfraError(where + ": malformed safetensors header: " + problem);
}

// A non-negative JSON integer, or InfraError saying what `what` is instead.
uint64_t non_negative_integer(const json& v, const std::string& where, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) malformed(where, what + " is " + v.dump() + ", negative");
  malformed(where, what + " is " + v.dump() + ", not a non-negative integer");
}

TensorEntry parse_entry(const std::string& name, const json& v, uint64_t data_bytes,
                        const std::string& where) {
  const std::string tensor = "tensor '" + name + "'";
  if (!v.is_object()) malformed(where, tensor + " is " + std::string(v.type_name()) + ", not an object");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!v.contains(field)) malformed(where, tensor + " has no \"" + field + "\"");

  TensorEntry e;
  e.name = name;
  const json& dtype = v.at("dtype");
  if (!dtype.is_string()) malformed(where, tensor + ": dtype is " + dtype.dump() + ", not a string");
  e.dtype = parse_dtype(dtype.get<std::string>(), where + ": " + tensor);

  const json& shape = v.at("shape");
  if (!shape.is_array()) malformed(where, tensor + ": shape is " + shape.dump() + ", not an array");
  // numel x dtype size must fit in 64 bits; a larger product is a corrupt header.
  const uint64_t limit = std::numeric_limits<int64_t>::max() / dtype_bytes(e.dtype);
  uint64_t numel = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    const uint64_t d =
        non_negative_integer(shape[i], where, tensor + ": shape[" + std::to_string(i) + "]");
    if (d != 0 && numel > limit / d)
      malformed(where, tensor + ": shape " + shape.dump() + " has too many elements");
    numel *= d;
    e.shape.push_back(static_cast<int64_t>(d));
  }
  if (numel > limit) malformed(where, tensor + ": shape " + shape.dump() + " has too many elements");

  const json& offsets = v.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2)
    malformed(where, tensor + ": data_offsets is " + offsets.dump() + ", not [begin, end]");
  e.begin = non_negative_integer(offsets[0], where, tensor + ": data_offsets[0]");
  e.end = non_negative_integer(offsets[1], where, tensor + ": data_offsets[1]");
  if (e.end < e.begin)
    malformed(where, tensor + ": data_offsets " + offsets.dump() + " end before they begin");
  if (e.end > data_bytes)
    malformed(where, tensor + ": data_offsets " + offsets.dump() + " run past the data section (" +
                         std::to_string(data_bytes) + " bytes; the file is truncated?)");
  const uint64_t bytes = numel * dtype_bytes(e.dtype);
  if (e.end - e.begin != bytes)
    malformed(where, tensor + ": data_offsets " + offsets.dump() + " hold " +
                         std::to_string(e.end - e.begin) + " bytes but " + dtype_name(e.dtype) +
                         " " + shape.dump() + " is " + std::to_string(bytes) + " bytes");
  return e;
}

}  // namespace

SafetensorsHeader parse_header(const char* text, size_t size, uint64_t data_bytes,
                               const std::string& where) {
  // nlohmann keeps the last of two equal keys; a header naming a tensor twice is corrupt, so
  // the keys of the top-level object are collected while parsing.
  std::set<std::string> seen;
  std::string duplicate;
  const json::parser_callback_t note_keys = [&](int depth, json::parse_event_t event,
                                                json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && parsed.is_string() &&
        !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  // nlohmann stops at a NUL byte as at the end of the text; no valid JSON has one (the
  // reference reader refuses it too), and what follows it would be silently ignored.
  if (std::memchr(text, '\0', size) != nullptr)
    malformed(where, "invalid JSON: a NUL byte at offset " +
                         std::to_string(static_cast<const char*>(std::memchr(text, '\0', size)) - text));
  json root;
  try {
    root = json::parse(text, text + size, note_keys);
  } catch (const json::exception& e) {
    malformed(where, std::string("invalid JSON: ") + e.what());
  }
  if (!root.is_object())
    malformed(where, "the JSON is " + std::string(root.type_name()) + ", not an object");
  if (!duplicate.empty()) malformed(where, "'" + duplicate + "' appears twice");

  SafetensorsHeader header;
  for (const auto& [name, value] : root.items()) {
    if (name == kMetadataKey) {
      if (!value.is_object())
        malformed(where, "__metadata__ is " + std::string(value.type_name()) + ", not an object");
      for (const auto& [key, v] : value.items()) {
        if (!v.is_string())
          malformed(where, "__metadata__['" + key + "'] is " + v.dump() + ", not a string");
        header.metadata[key] = v.get<std::string>();
      }
      continue;
    }
    header.tensors.push_back(parse_entry(name, value, data_bytes, where));
  }

  auto& t = header.tensors;
  std::sort(t.begin(), t.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // Sorted by begin, two tensors share a byte iff one ends after the next non-empty one begins.
  const TensorEntry* last = nullptr;
  for (const auto& e : t) {
    if (e.begin == e.end) continue;  // an empty tensor holds no byte to share
    if (last != nullptr && last->end > e.begin)
      malformed(where, "tensors '" + last->name + "' [" + std::to_string(last->begin) + ", " +
                           std::to_string(last->end) + ") and '" + e.name + "' [" +
                           std::to_string(e.begin) + ", " + std::to_string(e.end) + ") overlap");
    last = &e;
  }
  return header;
}

std::string serialize_header(const std::vector<TensorEntry>& tensors,
                             const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps insertion order: __metadata__, then the tensors in offset order, each
  // with dtype, shape, data_offsets, as the reference writer emits them.
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    root[kMetadataKey] = std::move(m);
  }
  for (const auto& e : tensors) {
    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = dtype_name(e.dtype);
    entry["shape"] = e.shape;
    entry["data_offsets"] = {e.begin, e.end};
    root[e.name] = std::move(entry);
  }
  std::string text;
  try {
    text = root.dump();
  } catch (const nlohmann::json::exception& e) {
    throw InfraError(std::string("cannot write a safetensors header: ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

}  // namespace mpitune::hf_detail
