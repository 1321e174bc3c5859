// The SentencePiece tokenizer through the mpitune_sentencepiece module: where the module is looked
// for and what is said when it is missing or broken, ids equal to spm_encode's, and a model whose
// self-test fails (SentencePiece logs to std::cerr) being an error rather than a crash.
// In builds without SentencePiece, tokenizer.model is refused (load_tokenizer_test.cpp) and this
// file has no tests.
#ifdef MPITUNE_HAVE_SENTENCEPIECE

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "sentencepiece/sentencepiece_module.hpp"  // private to src/tokenize: the search rules
#include "spm_test_model.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

namespace spm = sentencepiece_module;
using testing::TempDir;
using testing::write_file;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<std::string> paths(const std::vector<spm::Candidate>& places) {
  std::vector<std::string> out;
  for (const auto& c : places) out.push_back(c.path);
  return out;
}

std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.tokenizer");
    return e.what();
  }
  ADD_FAILURE() << "no ConfigError";
  return "";
}

TEST(SentencePieceModuleSearch, TheVariableIsTheOnlyPlaceWhenSet) {
  const auto places = spm::candidates("/x/custom.so", "/opt/mt/bin/mpitune", "/build/mpitune_sentencepiece.so");
  EXPECT_EQ(paths(places), std::vector<std::string>{"/x/custom.so"});
  EXPECT_EQ(places[0].source, "MPITUNE_SENTENCEPIECE_MODULE");
}

TEST(SentencePieceModuleSearch, ExecutableFolderThenLibThenBuildPath) {
  const std::string name = spm::module_file_name();
  const std::vector<std::string> expected = {"/opt/mt/bin/" + name, "/opt/mt/lib/" + name, "/build/x/" + name};
  EXPECT_EQ(paths(spm::candidates(nullptr, "/opt/mt/bin/mpitune", "/build/x/" + name)), expected);
  EXPECT_EQ(paths(spm::candidates("", "/opt/mt/bin/mpitune", "/build/x/" + name)), expected);  // empty = unset
  // build/mpitune: its own folder is the build folder, listed once.
  EXPECT_EQ(paths(spm::candidates(nullptr, "/b/mpitune", "/b/" + name)),
            (std::vector<std::string>{"/b/" + name, "/lib/" + name}));
  EXPECT_EQ(paths(spm::candidates(nullptr, "", "/b/" + name)), std::vector<std::string>{"/b/" + name});
}

TEST(SentencePieceModuleSearch, TheFirstExistingPlaceWins) {
  TempDir root;
  ASSERT_EQ(::mkdir(root.file("bin").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(root.file("lib").c_str(), 0755), 0);
  const std::string name = spm::module_file_name();
  const auto places = spm::candidates(nullptr, root.file("bin/mpitune"), root.file("build/" + name));
  write_file(root.file("lib/" + name), "");
  EXPECT_EQ(spm::find_module(places, "m/tokenizer.model"), root.file("lib/" + name));
  write_file(root.file("bin/" + name), "");
  EXPECT_EQ(spm::find_module(places, "m/tokenizer.model"), root.file("bin/" + name));
}

TEST(SentencePieceModuleSearch, MissingEverywhereNamesEveryPlace) {
  TempDir root;
  const std::string name = spm::module_file_name();
  const auto places = spm::candidates(nullptr, root.file("bin/mpitune"), root.file("build/" + name));
  const std::string e = config_error_of([&] { spm::find_module(places, "/models/llama/tokenizer.model"); });
  EXPECT_TRUE(has(e, "/models/llama/tokenizer.model")) << e;
  for (const auto& c : places) EXPECT_TRUE(has(e, c.path + " (" + c.source + ")")) << e;
  EXPECT_TRUE(has(e, "MPITUNE_SENTENCEPIECE_MODULE")) << e;  // the fix names the variable
}

TEST(SentencePieceModuleSearch, AMissingVariableTargetIsReportedNotReplaced) {
  TempDir root;
  const auto places = spm::candidates(root.file("gone.so").c_str(), "/opt/mt/bin/mpitune", spm::module_build_path());
  const std::string e = config_error_of([&] { spm::find_module(places, "m/tokenizer.model"); });
  EXPECT_TRUE(has(e, "MPITUNE_SENTENCEPIECE_MODULE=" + root.file("gone.so") + " does not exist")) << e;
}

// Sets (or, with nullptr, unsets) the module variable for one scope, then puts back what was there.
class ScopedModuleVariable {
 public:
  explicit ScopedModuleVariable(const char* value) {
    const char* before = std::getenv(spm::kEnvVar);
    had_ = before != nullptr;
    if (had_) before_ = before;
    EXPECT_EQ(value ? ::setenv(spm::kEnvVar, value, 1) : ::unsetenv(spm::kEnvVar), 0);
  }
  ~ScopedModuleVariable() { EXPECT_EQ(had_ ? ::setenv(spm::kEnvVar, before_.c_str(), 1) : ::unsetenv(spm::kEnvVar), 0); }

 private:
  bool had_ = false;
  std::string before_;
};

TEST(SentencePieceModuleSearch, ThisProcessLooksNextToItsExecutableThenWhereTheBuildWroteIt) {
  const std::string name = spm::module_file_name();
  {
    ScopedModuleVariable unset(nullptr);
    const auto places = spm::process_candidates();
    // This test runs as <build>/tests/test_tokenize; the module is built into <build>.
    const std::string build = MPITUNE_BINARY_DIR;
    EXPECT_EQ(paths(places), (std::vector<std::string>{build + "/tests/" + name, build + "/lib/" + name, build + "/" + name}));
    EXPECT_EQ(spm::find_module(places, "m/tokenizer.model"), build + "/" + name);
  }
  ScopedModuleVariable set("/somewhere/else.so");
  EXPECT_EQ(paths(spm::process_candidates()), std::vector<std::string>{"/somewhere/else.so"});
}

TEST(SentencePieceModuleOpen, AFileThatIsNoLibrarySaysWhatDlopenSaid) {
  TempDir root;
  const std::string path = root.file("broken.so");
  write_file(path, "this is not an ELF file, just text long enough to have a header's worth of bytes\n");
  ASSERT_EQ(dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL), nullptr);
  const std::string dl_says = dlerror();
  const std::string e = config_error_of([&] { spm::open_module(path, "m/tokenizer.model"); });
  EXPECT_TRUE(has(e, "cannot load the SentencePiece module " + path)) << e;
  EXPECT_TRUE(has(e, dl_says)) << e << "\ndlerror: " << dl_says;
}

TEST(SentencePieceModuleOpen, AnotherLibraryIsNotTheModule) {
  Dl_info libc{};
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&std::strlen), &libc), 0);
  const std::string e = config_error_of([&] { spm::open_module(libc.dli_fname, "m/tokenizer.model"); });
  EXPECT_TRUE(has(e, std::string(libc.dli_fname) + " is not an mpitune SentencePiece module")) << e;
  EXPECT_TRUE(has(e, "mpitune_spm_api_version")) << e;  // dlerror names the missing symbol
}

TEST(SentencePieceModuleOpen, TheBuiltModuleHasEveryFunction) {
  const spm::Functions f = spm::open_module(spm::module_build_path(), "m/tokenizer.model");
  for (const void* fn : {reinterpret_cast<const void*>(f.load), reinterpret_cast<const void*>(f.close),
                         reinterpret_cast<const void*>(f.encode), reinterpret_cast<const void*>(f.decode),
                         reinterpret_cast<const void*>(f.vocab_size), reinterpret_cast<const void*>(f.bos_id),
                         reinterpret_cast<const void*>(f.eos_id), reinterpret_cast<const void*>(f.unk_id),
                         reinterpret_cast<const void*>(f.piece_id), reinterpret_cast<const void*>(f.free)})
    EXPECT_NE(fn, nullptr);
}

TEST(SentencePieceTokenizer, IdsAreSpmEncodes) {
  for (const std::string type : {"bpe", "unigram"}) {
    TempDir dir;
    ASSERT_TRUE(testing::train_spm_model(dir, type));
    const auto lines = testing::spm_probe_lines();
    const auto expected = testing::spm_encode_ids(dir, lines);
    ASSERT_EQ(expected.size(), lines.size());
    const auto tok = load_tokenizer(dir.path(), "");
    EXPECT_EQ(tok->kind(), "sentencepiece");
    EXPECT_EQ(tok->vocab_size(), testing::spm_vocab_lines(dir)) << type;
    // spm_train's defaults: <unk> 0, <s> 1, </s> 2; add_bos as Llama-2's tokenizer.
    EXPECT_EQ(tok->bos_id(), 1);
    EXPECT_EQ(tok->eos_id(), 2);
    EXPECT_TRUE(tok->add_bos());
    for (size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(tok->encode(lines[i]), expected[i]) << type << ": " << lines[i];
      EXPECT_EQ(tok->decode(tok->encode(lines[i])), lines[i]) << type;  // identity normalization, byte fallback
    }
    EXPECT_TRUE(tok->encode("").empty());
    EXPECT_EQ(tok->decode({}), "");
    EXPECT_EQ(tok->decode({-5, static_cast<int32_t>(tok->vocab_size())}), "");  // out-of-range ids are skipped
  }
}

TEST(SentencePieceTokenizer, ConfigFilesNameSpecialTokensByPiece) {
  TempDir dir;
  ASSERT_TRUE(testing::train_spm_model(dir, "bpe"));
  // eos named by its piece: resolved through the module's piece lookup; an unknown piece is an error.
  write_file(dir.file("tokenizer_config.json"), R"({"bos_token": "</s>", "eos_token": "<s>", "add_bos_token": false})");
  const auto tok = load_tokenizer(dir.path(), "");
  EXPECT_EQ(tok->bos_id(), 2);
  EXPECT_EQ(tok->eos_id(), 1);
  EXPECT_FALSE(tok->add_bos());
  write_file(dir.file("tokenizer_config.json"), R"({"eos_token": "<never-seen>"})");
  const std::string e = config_error_of([&] { load_tokenizer(dir.path(), ""); });
  EXPECT_TRUE(has(e, "<never-seen>")) << e;
}

// Reads what the process writes to file descriptor 2 while `f` runs.
std::string stderr_of(const std::function<void()>& f) {
  TempDir dir;
  std::fflush(stderr);
  const int saved = ::dup(2);
  EXPECT_GE(saved, 0);
  FILE* capture = std::fopen(dir.file("stderr.txt").c_str(), "w");
  EXPECT_NE(capture, nullptr);
  EXPECT_GE(::dup2(::fileno(capture), 2), 0);
  f();
  std::fflush(stderr);
  EXPECT_GE(::dup2(saved, 2), 0);
  ::close(saved);
  std::fclose(capture);
  return testing::read_file(dir.file("stderr.txt"));
}

TEST(SentencePieceTokenizer, AFailedSelfTestIsAnErrorNotACrash) {
  ASSERT_NO_FATAL_FAILURE(testing::expect_own_copy_of_cerr());

  TempDir dir;
  ASSERT_TRUE(testing::train_spm_model(dir, "bpe"));
  write_file(dir.file("tokenizer.model"), testing::with_failing_self_test(testing::read_file(dir.file("tokenizer.model"))));
  std::string e;
  const std::string logged = stderr_of([&] { e = config_error_of([&] { load_tokenizer(dir.path(), ""); }); });
  EXPECT_TRUE(has(e, dir.file("tokenizer.model") + ": not a SentencePiece model")) << e;
  EXPECT_TRUE(has(e, "Self-test failures")) << e;
  EXPECT_TRUE(has(logged, "1/1 samples did not pass the test.")) << logged;  // SentencePiece's LOG(INFO)
}

}  // namespace
}  // namespace mpitune

#endif  // MPITUNE_HAVE_SENTENCEPIECE
