// Reading the JSON files of a tokenizer folder, with errors that name the file (private to
// src/tokenize: the public headers do not expose nlohmann-json). Whether a file is there is
// core/file_io.hpp's is_regular_file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace mpitune::tokenizer_json {

using nlohmann::json;

// The file's bytes (core/file_io.hpp's read_file_text); ConfigError("data.tokenizer", ...) when
// it cannot be opened or read.
std::string read_bytes(const std::string& path);
// Parses `bytes` (read from `path`); ConfigError naming the file and the parser's message.
json parse(const std::string& bytes, const std::string& path);

// Typed fields, with a ConfigError naming `where` and the key when the type is wrong.
// Absent or null keys give the fallback.
bool flag(const json& j, const char* key, bool fallback, const std::string& where);
std::string text(const json& j, const char* key, const std::string& fallback, const std::string& where);
// "type" of a component object, or "" for null.
std::string type_of(const json& j, const std::string& where);

}  // namespace mpitune::tokenizer_json
