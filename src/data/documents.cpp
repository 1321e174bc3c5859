// Every document of a corpus path: each file read and cut by its kind (see documents.hpp).
#include <cctype>
#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/data/documents.hpp"
#include "posix_io.hpp"

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
  std::string text;
  for (const auto& f : files) {
    if (const int err = data_io::read_whole_file(f, text))
      throw ConfigError(key, "cannot read '" + f + "': " + std::strerror(err), "check its permissions");
    if (is_jsonl(f)) {
      for (auto& d : parse_jsonl_documents(text, f, data, key)) docs.push_back(std::move(d));
    } else {
      for (auto& t : split_text_documents(text, data.document_separator)) docs.push_back(Document{std::move(t), "", false});
    }
  }
  return docs;
}

std::vector<Document> read_documents(const std::string& path, const DataOptions& data, const std::string& key) {
  return read_documents(list_corpus_files(path, data.extensions, key), data, key);
}

}  // namespace mpitune
