// The documents of a JSONL file: one JSON object per non-empty line (see documents.hpp).
#include <nlohmann/json.hpp>

#include "mpitune/core/error.hpp"
#include "mpitune/data/documents.hpp"

namespace mpitune {
namespace {

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  return true;
}

// The string value of `field`, or null when the object has no such field.
const std::string* string_field(const nlohmann::json& obj, const std::string& field, const std::string& where,
                                const std::string& key) {
  const auto it = obj.find(field);
  if (it == obj.end()) return nullptr;
  if (!it->is_string())
    throw ConfigError(key, where + ": the field \"" + field + "\" is " + it->type_name() + ", not a string",
                      "give it the document's text as a JSON string");
  return it->get_ptr<const std::string*>();
}

}  // namespace

std::vector<Document> parse_jsonl_documents(std::string_view text, const std::string& file,
                                            const DataOptions& data, const std::string& key) {
  std::vector<Document> docs;
  size_t pos = 0;
  int64_t line_number = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_number;
    if (is_blank(line)) continue;
    const std::string where = "'" + file + "' line " + std::to_string(line_number);
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(line.begin(), line.end());
    } catch (const nlohmann::json::exception& e) {
      // nlohmann's messages name the byte offset within the line.
      throw ConfigError(key, where + " is not valid JSON (" + e.what() + ")",
                        "write one JSON object per line (JSONL), in UTF-8");
    }
    if (!obj.is_object())
      throw ConfigError(key, where + " is a JSON " + obj.type_name() + ", not an object",
                        "write one JSON object per line, e.g. {\"" + data.text_field + "\": \"...\"}");
    if (const std::string* t = string_field(obj, data.text_field, where, "data.text_field")) {
      if (!is_blank(*t)) docs.push_back(Document{*t, "", false});
      continue;
    }
    const std::string* prompt = string_field(obj, data.prompt_field, where, "data.prompt_field");
    const std::string* completion = string_field(obj, data.completion_field, where, "data.completion_field");
    if (!prompt || !completion)
      throw ConfigError("data.text_field",
                        where + " has no \"" + data.text_field + "\" field, nor \"" + data.prompt_field +
                            "\" and \"" + data.completion_field + "\"",
                        "set data.text_field (or data.prompt_field and data.completion_field) to the "
                        "fields the file uses");
    if (!prompt->empty() || !completion->empty()) docs.push_back(Document{*completion, *prompt, true});
  }
  return docs;
}

}  // namespace mpitune
