// JSON files of a tokenizer folder (see json_file.hpp).
#include "json_file.hpp"

#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"

namespace mpitune::tokenizer_json {

namespace {
constexpr const char* kField = "data.tokenizer";
}

std::string read_bytes(const std::string& path) {
  try {
    return read_file_text(path);
  } catch (const FileError& e) {  // a file of the user's data.tokenizer folder
    const std::string reason = std::strerror(e.error_number());
    if (e.call() == "open") throw ConfigError(kField, path + ": cannot open (" + reason + ")", "check the path and its permissions");
    throw ConfigError(kField, path + ": read failed (" + reason + ")");
  }
}

json parse(const std::string& bytes, const std::string& path) {
  try {
    return json::parse(bytes);
  } catch (const json::exception& e) {
    throw ConfigError(kField, path + ": not valid JSON (" + e.what() + ")", "the file is damaged; download it again");
  }
}

bool flag(const json& j, const char* key, bool fallback, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw ConfigError(kField, where + ": '" + key + "' is not true or false");
  return it->get<bool>();
}

std::string text(const json& j, const char* key, const std::string& fallback, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw ConfigError(kField, where + ": '" + key + "' is not a string");
  return it->get<std::string>();
}

std::string type_of(const json& j, const std::string& where) {
  if (j.is_null()) return "";
  if (!j.is_object()) throw ConfigError(kField, where + " is not an object");
  return text(j, "type", "", where);
}

}  // namespace mpitune::tokenizer_json
