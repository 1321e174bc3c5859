// Finding and dlopening the mpitune_sentencepiece module (the rules: sentencepiece_module.hpp).
#include "sentencepiece_module.hpp"

#include <dlfcn.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "mpitune/core/error.hpp"

#if !defined(MPITUNE_SENTENCEPIECE_MODULE_NAME) || !defined(MPITUNE_SENTENCEPIECE_MODULE_BUILD_PATH)
#error "CMakeLists.txt defines the module's file name and build path for mpitune_tokenize"
#endif

namespace mpitune::sentencepiece_module {
namespace {

constexpr const char* kField = "data.tokenizer";

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

// The running executable, or empty when /proc/self/exe cannot be read (then only the variable
// and the build path are looked at).
std::string running_executable() {
  char buffer[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buffer) return "";
  return std::string(buffer, static_cast<size_t>(n));
}

std::string dl_error() {
  const char* e = dlerror();
  return e != nullptr ? e : "no reason given by dlerror()";
}

template <class Fn>
void resolve(void* handle, const char* symbol, Fn& out, const std::string& path, const std::string& needed_for) {
  dlerror();  // clear a stale message: a symbol's value may legitimately be null
  void* found = dlsym(handle, symbol);
  if (found == nullptr) {
    const std::string why = dl_error();
    dlclose(handle);  // unload what is not the module; its result changes nothing here
    throw ConfigError(kField,
                      path + " is not an mpitune SentencePiece module (" + why + "), needed for " + needed_for,
                      "rebuild the target mpitune_sentencepiece, or point " + std::string(kEnvVar) + " at it");
  }
  out = reinterpret_cast<Fn>(found);
}

}  // namespace

const char* module_file_name() { return MPITUNE_SENTENCEPIECE_MODULE_NAME; }
const char* module_build_path() { return MPITUNE_SENTENCEPIECE_MODULE_BUILD_PATH; }

std::vector<Candidate> candidates(const char* env_value, const std::string& exe_path, const std::string& build_path) {
  if (env_value != nullptr && *env_value != '\0') return {{env_value, kEnvVar}};
  std::vector<Candidate> out;
  auto add = [&out](const std::string& path, const std::string& source) {
    const std::string normal = std::filesystem::path(path).lexically_normal().string();
    for (const auto& c : out)
      if (c.path == normal) return;  // build/mpitune: its folder is the build folder
    out.push_back({normal, source});
  };
  if (!exe_path.empty()) {
    const std::string dir = std::filesystem::path(exe_path).parent_path().string();
    add(dir + "/" + module_file_name(), "next to the executable");
    add(dir + "/../lib/" + module_file_name(), "in ../lib beside the executable");
  }
  add(build_path, "where the build wrote it");
  return out;
}

std::vector<Candidate> process_candidates() {
  return candidates(std::getenv(kEnvVar), running_executable(), module_build_path());
}

std::string find_module(const std::vector<Candidate>& places, const std::string& needed_for) {
  for (const auto& c : places)
    if (is_file(c.path)) return c.path;
  const std::string need = "reading " + needed_for + " needs the SentencePiece module " + module_file_name();
  if (places.size() == 1 && places[0].source == kEnvVar)
    throw ConfigError(kField, need + ", but " + kEnvVar + "=" + places[0].path + " does not exist",
                      "set " + std::string(kEnvVar) + " to the " + module_file_name() + " of this build, or unset it");
  std::string looked;
  for (const auto& c : places) looked += (looked.empty() ? "" : ", ") + c.path + " (" + c.source + ")";
  throw ConfigError(kField, need + ", which is in none of: " + looked,
                    "build the target mpitune_sentencepiece (a plain build does), copy it next to the "
                    "executable, or set " + std::string(kEnvVar) + " to its path");
}

Functions open_module(const std::string& path, const std::string& needed_for) {
  // RTLD_LOCAL: the module's symbols, and libsentencepiece's builtin protobuf, stay out of the
  // global scope, so libtorch's libprotobuf never binds to them. RTLD_DEEPBIND: their own
  // references bind inside the module first, not to libprotobuf.so.32. RTLD_NOW: a missing
  // library or symbol is reported here, not as a crash at the first call.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (handle == nullptr)
    throw ConfigError(kField, "cannot load the SentencePiece module " + path + " (needed for " + needed_for + "): " + dl_error(),
                      "install libsentencepiece0 (Debian) and rebuild the target mpitune_sentencepiece");
  decltype(&mpitune_spm_api_version) api_version = nullptr;
  resolve(handle, "mpitune_spm_api_version", api_version, path, needed_for);
  const uint32_t version = api_version();
  if (version != MPITUNE_SPM_API_VERSION) {
    dlclose(handle);  // unload the stale module; its result changes nothing here
    throw ConfigError(kField,
                      path + " is version " + std::to_string(version) + " of the SentencePiece module interface, this "
                      "mpitune needs version " + std::to_string(MPITUNE_SPM_API_VERSION),
                      "rebuild the target mpitune_sentencepiece together with mpitune");
  }
  Functions f;
  resolve(handle, "mpitune_spm_load", f.load, path, needed_for);
  resolve(handle, "mpitune_spm_close", f.close, path, needed_for);
  resolve(handle, "mpitune_spm_encode", f.encode, path, needed_for);
  resolve(handle, "mpitune_spm_decode", f.decode, path, needed_for);
  resolve(handle, "mpitune_spm_vocab_size", f.vocab_size, path, needed_for);
  resolve(handle, "mpitune_spm_bos_id", f.bos_id, path, needed_for);
  resolve(handle, "mpitune_spm_eos_id", f.eos_id, path, needed_for);
  resolve(handle, "mpitune_spm_unk_id", f.unk_id, path, needed_for);
  resolve(handle, "mpitune_spm_piece_id", f.piece_id, path, needed_for);
  resolve(handle, "mpitune_spm_free", f.free, path, needed_for);
  return f;  // the handle is never closed: models may live until the process ends
}

const Functions& process_module(const std::string& needed_for) {
  static std::mutex mutex;
  static std::unique_ptr<const Functions> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) loaded = std::make_unique<const Functions>(open_module(find_module(process_candidates(), needed_for), needed_for));
  return *loaded;
}

}  // namespace mpitune::sentencepiece_module
