// JSON files of a tokenizer folder (see json_file.hpp).
#include "json_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "mpitune/core/error.hpp"

namespace mpitune::tokenizer_json {

namespace {
constexpr const char* kField = "data.tokenizer";
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError(kField, path + ": cannot open (" + std::strerror(errno) + ")", "check the path and its permissions");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw ConfigError(kField, path + ": read failed (" + std::strerror(errno) + ")");
  return ss.str();
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
