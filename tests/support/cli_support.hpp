// Running the mpitune executable from a test as a user's shell would: its exit code and output,
// and the lines mpitune itself printed (mpirun adds its own notes).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace mpitune::testing {

struct Outcome {
  int code = -1;
  std::string out;  // stdout and stderr together
};

inline Outcome run_shell(const std::string& cmd) {
  Outcome o;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return o;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), n);
  const int status = pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// Lines that start with `prefix` ("mpitune:" for errors and notes).
inline std::vector<std::string> lines_starting(const std::string& out, const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) lines.push_back(line);
  return lines;
}

// `mpirun -np N` as root (CI, containers) with more ranks than cores.
inline std::string mpirun(int np) {
  return "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --bind-to none -np " +
         std::to_string(np) + " ";
}

}  // namespace mpitune::testing
