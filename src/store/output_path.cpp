// check_output_path: may a result file be written at this path? Decided before anything is
// written, so a bad `experiment.output` fails the job with one line and leaves no file behind.
#include <unistd.h>

#include <filesystem>
#include <string>

#include "mpitune/core/error.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace mpitune {
namespace {

namespace fs = std::filesystem;

constexpr const char* kField = "experiment.output";

fs::file_status status_of(const fs::path& p) {
  std::error_code ec;
  return fs::status(p, ec);  // not_found (also for "a/file/below-a-file") or the real type
}

}  // namespace

void check_output_path(const std::string& path, bool overwrite) {
  if (path.empty()) throw ConfigError(kField, "is empty", "give a file name such as results/{name}.h5");
  const fs::path p(path);
  const fs::file_status st = status_of(p);
  if (fs::exists(st)) {
    if (fs::is_directory(st))
      throw ConfigError(kField, "'" + path + "' is a directory", "give a file name such as " + path + "/results.h5");
    if (!overwrite)
      throw ConfigError(kField, "'" + path + "' exists", "set experiment.overwrite = true or choose another output");
    if (access(path.c_str(), W_OK) != 0)
      throw ConfigError(kField, "'" + path + "' exists and is not writable", "choose another output");
    return;
  }
  if (p.has_filename() == false || p.filename() == "." || p.filename() == "..")
    throw ConfigError(kField, "'" + path + "' names a directory", "give a file name such as results/{name}.h5");

  // The file and maybe some parent directories are missing: the first ancestor that exists
  // must be a directory we may create entries in.
  fs::path ancestor = p.parent_path();
  while (!ancestor.empty() && !fs::exists(status_of(ancestor))) ancestor = ancestor.parent_path();
  if (ancestor.empty()) ancestor = p.is_absolute() ? fs::path("/") : fs::path(".");
  const fs::file_status ast = status_of(ancestor);
  if (!fs::is_directory(ast))
    throw ConfigError(kField,
                      "cannot create '" + path + "': '" + ancestor.string() + "' is not a directory",
                      "choose another output");
  if (access(ancestor.c_str(), W_OK | X_OK) != 0)
    throw ConfigError(kField,
                      "cannot create '" + path + "': directory '" + ancestor.string() + "' is not writable",
                      "choose another output or make the directory writable");
}

}  // namespace mpitune
