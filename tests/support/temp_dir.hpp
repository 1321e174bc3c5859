// A fresh directory under the system temp folder, removed with everything in it at scope end.
#pragma once

#include <string>

namespace mpitune::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "mpitune-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `text` to `path` (creating or replacing it).
void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

}  // namespace mpitune::testing
