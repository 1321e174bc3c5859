// The hand-over from mpitune to mpitune-torch (see torch_hand_over.hpp).
#include "mpitune/runtime/torch_hand_over.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "mpitune/core/config.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"
#include "mpitune/runtime/run_options.hpp"

extern char** environ;

namespace mpitune {
namespace {

// `run`'s verdict (see needs_torch). The config is read as rank 0 will read it (default, file,
// overrides); only the file's existence is checked by hand, because a file this rank cannot read
// is no reason to stay: rank 0 may read it and broadcast a gpt config.
bool run_needs_torch(const std::vector<std::string>& run_args, std::optional<int> rank, bool torch_has_cuda) {
  RunRequest req;
  try {
    const auto desc = run_options_description();
    const auto vm = parse_run_words(run_args, desc);
    if (run_prints_only(vm)) return false;
    req = run_request_from(vm);
  } catch (const std::exception&) {
    return false;  // bad flags: reported by mpitune as before, on every rank alike
  }
  if (!req.resume_file.empty() && req.config_path.empty()) return true;  // its config is inside FILE
  if (!req.config_path.empty() && !file_exists(req.config_path)) return true;  // not readable here
  std::string trainable;
  try {
    trainable = parse_config(config_with_overrides(req.config_path, req.overrides)).experiment.trainable;
  } catch (const std::exception&) {
    return false;  // a bad config: rank 0 of this binary reports it, every rank exits with 2
  }
  if (trainable != "gpt") return false;
  const bool coordinator = rank && *rank == 0;
  return !coordinator || torch_has_cuda;
}

std::string folder_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

void report_missing_sibling(const std::string& sibling, int error) {
  std::fprintf(stderr,
               "mpitune: this command needs mpitune-torch next to %s (build it with: cmake --build <build dir> "
               "--target mpitune-torch, which needs libtorch): %s: %s\n",
               this_executable_path().c_str(), sibling.c_str(), std::strerror(error));
  std::fflush(stderr);
}

}  // namespace

bool needs_torch(const std::vector<std::string>& args, std::optional<int> rank, bool torch_has_cuda) {
  if (args.empty()) return false;
  const std::string& cmd = args[0];
  if (cmd == "eval" || cmd == "export") return true;
  if (cmd == "validate") return torch_has_cuda;
  if (cmd == "run") return run_needs_torch(std::vector<std::string>(args.begin() + 1, args.end()), rank, torch_has_cuda);
  return false;
}

std::optional<int> launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    char* end = nullptr;
    const long r = std::strtol(v, &end, 10);
    if (*end == '\0' && r >= 0) return static_cast<int>(r);
  }
  return std::nullopt;
}

std::string this_executable_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "mpitune";
  return std::string(buf, static_cast<size_t>(n));
}

std::string torch_sibling_path() { return folder_of(this_executable_path()) + "/mpitune-torch"; }

void hand_over_to_torch_if_needed(int argc, char** argv) {
  if (argc < 2 || std::getenv(kHandedOverEnv)) return;
#ifdef MPITUNE_TORCH_CUDA
  constexpr bool torch_has_cuda = true;
#else
  constexpr bool torch_has_cuda = false;
#endif
  if (!needs_torch(std::vector<std::string>(argv + 1, argv + argc), launcher_rank(), torch_has_cuda)) return;
  const std::string sibling = torch_sibling_path();
  setenv(kHandedOverEnv, this_executable_path().c_str(), 1);
  execv(sibling.c_str(), argv);
  report_missing_sibling(sibling, errno);  // execv returns only when it failed
  std::exit(2);
}

int run_torch_command(const std::string& command, const std::vector<std::string>& args) {
  const std::string sibling = torch_sibling_path();
  std::vector<std::string> words{sibling, command};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  if (const int err = posix_spawn(&pid, sibling.c_str(), nullptr, nullptr, argv.data(), environ); err != 0) {
    report_missing_sibling(sibling, err);
    return 2;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    MPITUNE_CHECK(errno == EINTR, "waiting for " + sibling + ": " + std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  throw InfraError(sibling + " " + command + " ended with signal " + std::to_string(WTERMSIG(status)));
}

void note_torch_hand_over(int argc, char** argv) {
  const char* from = std::getenv(kHandedOverEnv);
  if (!from || argc < 2 || std::strcmp(argv[1], "run") != 0) return;
  bool verbose = false;
  for (int i = 2; i < argc; ++i) verbose = verbose || !std::strcmp(argv[i], "--verbose") || !std::strcmp(argv[i], "-v");
  if (!verbose) return;
  const std::optional<int> rank = launcher_rank();
  std::fprintf(stderr, "mpitune: rank %s runs in mpitune-torch (handed over by %s)\n",
               rank ? std::to_string(*rank).c_str() : "?", from);
  std::fflush(stderr);
}

}  // namespace mpitune
