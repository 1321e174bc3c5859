// Finding and loading the mpitune_sentencepiece module (why there is a module:
// sentencepiece_abi.h). Private to src/tokenize; sentencepiece_model.hpp is what the tokenizer uses.
//
// Where the module is looked for, the first that exists wins:
//  1. $MPITUNE_SENTENCEPIECE_MODULE when it is set and not empty, and then nowhere else (a wrong
//     setting is reported, not silently replaced by another module);
//  2. next to the running executable (the folder of /proc/self/exe): build/mpitune;
//  3. in ../lib beside that folder: an installed bin/ + lib/ layout;
//  4. where the build wrote it (a compile definition): the tests in build/tests/.
// It is loaded once per process, when the first tokenizer.model is, with
// RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND, and stays loaded until the process ends.
// RTLD_DEEPBIND has two known costs: the sanitizers' runtimes refuse it (an ASan build cannot read
// a tokenizer.model), and objects the executable copied from libstdc++ are not the ones the
// module sees (the standard streams, which the module repairs: module/deepbind_streams.hpp).
#pragma once

#include <string>
#include <vector>

#include "sentencepiece_abi.h"

namespace mpitune::sentencepiece_module {

// The module's functions (the declarations in sentencepiece_abi.h give their types; nothing here
// links them).
struct Functions {
  decltype(&mpitune_spm_load) load = nullptr;
  decltype(&mpitune_spm_close) close = nullptr;
  decltype(&mpitune_spm_encode) encode = nullptr;
  decltype(&mpitune_spm_decode) decode = nullptr;
  decltype(&mpitune_spm_vocab_size) vocab_size = nullptr;
  decltype(&mpitune_spm_bos_id) bos_id = nullptr;
  decltype(&mpitune_spm_eos_id) eos_id = nullptr;
  decltype(&mpitune_spm_unk_id) unk_id = nullptr;
  decltype(&mpitune_spm_piece_id) piece_id = nullptr;
  decltype(&mpitune_spm_free) free = nullptr;
};

// One place to look, and why it is looked at (for messages).
struct Candidate {
  std::string path;
  std::string source;  // "MPITUNE_SENTENCEPIECE_MODULE", "next to the executable", ...
};

constexpr const char* kEnvVar = "MPITUNE_SENTENCEPIECE_MODULE";

// The module's file name (mpitune_sentencepiece.so) and where the build wrote it.
const char* module_file_name();
const char* module_build_path();

// The places of the list above, in order. env_value: the variable (nullptr when unset);
// exe_path: the running executable (empty when unknown: then 2 and 3 are left out).
std::vector<Candidate> candidates(const char* env_value, const std::string& exe_path, const std::string& build_path);
// candidates() for this process.
std::vector<Candidate> process_candidates();

// The first candidate that exists. Throws ConfigError("data.tokenizer", ...) naming every place it
// looked when none does; `needed_for` (the tokenizer.model being read) is named too.
std::string find_module(const std::vector<Candidate>& places, const std::string& needed_for);

// dlopens `path` and resolves its functions. Throws ConfigError("data.tokenizer", ...) with
// dlerror()'s words when the file cannot be loaded or is not the module, and when it is a module
// of another API version. Not cached: process_module() is what the process uses; this is for tests.
Functions open_module(const std::string& path, const std::string& needed_for);

// The process's module, found and opened on the first call (thread-safe); a failure is not
// remembered, so a later call tries again.
const Functions& process_module(const std::string& needed_for);

}  // namespace mpitune::sentencepiece_module
