#include "mpitune/core/error.hpp"

#include <cstring>

namespace mpitune {

std::string source_place(const char* file, int line) {
  // Keep the path from "src/" on so messages stay short and stable across build trees.
  const char* s = std::strstr(file, "src/");
  return std::string(s ? s : file) + ":" + std::to_string(line);
}

}  // namespace mpitune
