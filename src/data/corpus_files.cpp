// Which files of a corpus path are read, in which order (see documents.hpp).
#include <algorithm>
#include <cctype>
#include <cstring>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/core/ini.hpp"  // trim
#include "mpitune/data/documents.hpp"

namespace mpitune {
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}


bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The entries of data.extensions, lower case, without their leading dot; "" for "none".
std::vector<std::string> extension_list(const std::string& extensions) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = extensions.find(',', start);
    std::string e = lower(trim(extensions.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    while (!e.empty() && e.front() == '.') e.erase(0, 1);
    out.push_back(e == "none" ? "" : e);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Appends the regular files under `dir` (a folder) as paths relative to the corpus root.
void walk(const std::string& dir, const std::string& relative, const std::string& extensions,
          const std::string& key, std::vector<std::string>& out) {
  std::vector<std::string> names;
  try {
    names = list_dir(dir);
  } catch (const FileError& e) {
    const std::string problem = "cannot list the folder '" + dir + "': " + std::strerror(e.error_number());
    // A folder that does not open is a matter of permissions; a failure while reading one has no fix to offer.
    if (e.call() == "opendir") throw ConfigError(key, problem, "check its permissions");
    throw ConfigError(key, problem);
  }
  std::vector<std::string> folders;
  for (const auto& name : names) {
    if (name.empty() || name[0] == '.') continue;  // hidden entries (list_dir drops "." and "..")
    const std::string path = dir + "/" + name;
    FileStatus st;
    // symlink_status, not file_status: a symlink is skipped, not followed (fortunes' "art.u8 -> art").
    try {
      st = symlink_status(path);
    } catch (const FileError& e) {
      throw ConfigError(key, "cannot read '" + path + "': " + std::strerror(e.error_number()), "check its permissions");
    }
    if (st.kind == FileKind::directory) {
      folders.push_back(name);
    } else if (st.kind == FileKind::regular && extension_selected(name, extensions)) {
      out.push_back(relative + name);
    }
  }
  for (const auto& f : folders) walk(dir + "/" + f, relative + f + "/", extensions, key, out);
}

// The entries of data.exclude, normalized ("./a/" -> "a"); empty entries dropped.
std::vector<std::string> exclude_list(const std::string& exclude) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = exclude.find(',', start);
    std::string e = trim(exclude.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    while (e.size() >= 2 && e.compare(0, 2, "./") == 0) e.erase(0, 2);
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (!e.empty() && e != ".") {
      if (e.front() == '/')
        throw ConfigError("data.exclude", "'" + e + "' is an absolute path",
                          "give paths relative to the data.corpus folder, e.g. computers");
      const std::string padded = "/" + e + "/";
      if (padded.find("/../") != std::string::npos)
        throw ConfigError("data.exclude", "'" + e + "' leaves the data.corpus folder (..)",
                          "give paths inside the data.corpus folder, e.g. computers");
      out.push_back(e);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// Whether `relative` (a file's path under the corpus folder) is `entry` or lies in the folder `entry`.
bool under(const std::string& relative, const std::string& entry) {
  return relative.size() >= entry.size() && relative.compare(0, entry.size(), entry) == 0 &&
         (relative.size() == entry.size() || relative[entry.size()] == '/');
}

// Drops the excluded files from `relative`; an entry that drops nothing is an error.
void apply_exclude(std::vector<std::string>& relative, const std::vector<std::string>& entries,
                   const std::string& root) {
  std::vector<bool> used(entries.size(), false);
  std::vector<std::string> kept;
  kept.reserve(relative.size());
  for (auto& r : relative) {
    bool excluded = false;
    for (size_t i = 0; i < entries.size(); ++i)
      if (under(r, entries[i])) excluded = used[i] = true;  // every entry that matches is used
    if (!excluded) kept.push_back(std::move(r));
  }
  for (size_t i = 0; i < entries.size(); ++i)
    if (!used[i])
      throw ConfigError("data.exclude", "'" + entries[i] + "' matches no file read under '" + root + "'",
                        "give files or folders relative to data.corpus (hidden files, symlinks and skipped "
                        "extensions are not read anyway)");
  relative.swap(kept);
}

}  // namespace

const std::string& corpus_exclude(const DataOptions& data, const std::string& key) {
  static const std::string none;
  return key == "data.corpus" ? data.exclude : none;
}

bool extension_selected(const std::string& name, const std::string& extensions) {
  const std::string lname = lower(name);
  if (trim(extensions).empty()) return !ends_with(lname, ".dat");
  // A name's extension starts at a dot that is not its first character (".bashrc" has none).
  const bool has_extension = lname.find('.', 1) != std::string::npos;
  for (const auto& e : extension_list(extensions)) {
    if (e.empty() ? !has_extension : ends_with(lname, "." + e)) return true;
  }
  return false;
}

std::vector<std::string> list_corpus_files(const std::string& path, const std::string& extensions,
                                           const std::string& exclude, const std::string& key) {
  const std::vector<std::string> excluded = exclude_list(exclude);
  if (path.empty()) throw ConfigError(key, "is empty", "point it at a text file, a JSONL file or a folder of them");
  FileStatus st;
  try {
    st = file_status(path);  // follows a symlink given as the corpus itself
  } catch (const FileError& e) {
    throw ConfigError(key, "'" + path + "' does not exist (" + std::strerror(e.error_number()) + ")",
                      key == "data.corpus"
                          ? "install the Debian package fortunes or point data.corpus at a text file, a JSONL file or a folder"
                          : "point it at a text file, a JSONL file or a folder of them");
  }
  if (st.kind == FileKind::regular) {
    if (!excluded.empty())
      throw ConfigError("data.exclude", "'" + path + "' (" + key + ") is a file: there is nothing under it to exclude",
                        "remove data.exclude or point " + key + " at a folder");
    return {path};
  }
  if (st.kind != FileKind::directory)
    throw ConfigError(key, "'" + path + "' is neither a file nor a folder",
                      "point it at a text file, a JSONL file or a folder of them");
  std::string root = path;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::vector<std::string> relative;
  walk(root, "", extensions, key, relative);
  // Byte order of the whole relative path, so "a.txt" < "a/b.txt" however the walk went.
  std::sort(relative.begin(), relative.end());
  if (!excluded.empty() && !relative.empty()) {
    apply_exclude(relative, excluded, root);
    if (relative.empty())
      throw ConfigError("data.exclude", "excludes every file of '" + path + "' (" + key + ")",
                        "exclude fewer files or folders");
  }
  if (relative.empty())
    throw ConfigError(key, "the folder '" + path + "' has no file to read" +
                               (trim(extensions).empty() ? std::string(" (hidden files, symlinks and *.dat are skipped)")
                                                         : " with data.extensions = " + extensions),
                      "put text or JSONL files in it" +
                          std::string(trim(extensions).empty() ? "" : " or change data.extensions"));
  std::vector<std::string> files;
  files.reserve(relative.size());
  const std::string prefix = root == "/" ? root : root + "/";
  for (const auto& r : relative) files.push_back(prefix + r);
  return files;
}

}  // namespace mpitune
