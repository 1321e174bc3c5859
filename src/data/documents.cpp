// Every document of a corpus path: each file read and cut by its kind (see documents.hpp).
#include <cctype>
#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/data/documents.hpp"

namespace mpitune {
namespace {

bool is_jsonl(const std::string& path) {
  const std::string tail = ".jsonl";
  if (path.size() < tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(path[path.size() - tail.size() + i])) != tail[i]) return false;
  return true;
}

}  // namespace

std::vector<Document> read_documents(const std::vector<std::string>& files, const DataOptions& data,
                                     const std::string& key) {
  std::vector<Document> docs;
  for (const auto& f : files) {
    std::string text;
    try {
      text = read_file_text(f);
    } catch (const FileError& e) {  // a file of the user's corpus: the user's to fix
      throw ConfigError(key, "cannot read '" + f + "': " + std::strerror(e.error_number()), "check its permissions");
    }
    if (is_jsonl(f)) {
      for (auto& d : parse_jsonl_documents(text, f, data, key)) docs.push_back(std::move(d));
    } else {
      for (auto& t : split_text_documents(text, data.document_separator)) docs.push_back(Document{std::move(t), "", false});
    }
  }
  return docs;
}

std::vector<Document> read_documents(const std::string& path, const DataOptions& data, const std::string& key) {
  return read_documents(list_corpus_files(path, data.extensions, corpus_exclude(data, key), key), data, key);
}

}  // namespace mpitune
