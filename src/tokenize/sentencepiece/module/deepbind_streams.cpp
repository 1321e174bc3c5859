// repair_deepbind_streams (why: deepbind_streams.hpp).
#include "deepbind_streams.hpp"

#include <dlfcn.h>

#include <iostream>
#include <mutex>
#include <new>

namespace mpitune_spm {
namespace {

// `seen_here` is the object this module's references bind to; `symbol` names the stream.
void repair(std::ostream& seen_here, const char* symbol, void* program) {
  void* in_process = dlsym(program, symbol);  // the executable's copy when it has one
  if (in_process == nullptr || in_process == static_cast<void*>(&seen_here)) return;
  // An ostream starts with its vtable pointer: zero means libstdc++ never constructed it. Never
  // construct over a live stream (one a previous call, or another library, already built).
  if (*reinterpret_cast<void* const*>(&seen_here) != nullptr) return;
  auto& process = *static_cast<std::ostream*>(in_process);
  auto* stream = new (&seen_here) std::ostream(process.rdbuf());
  stream->flags(process.flags());  // cerr's unitbuf: flushed after every message
  stream->tie(process.tie());      // cerr and clog flush cout first
}

}  // namespace

void repair_deepbind_streams() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The main program's handle: dlsym with it searches the executable first, then the libraries
    // it was started with, which is where the process's own streams are.
    void* program = dlopen(nullptr, RTLD_NOW);
    if (program == nullptr) return;  // without it nothing can be compared; leave the streams alone
    repair(std::cout, "_ZSt4cout", program);
    repair(std::cerr, "_ZSt4cerr", program);
    repair(std::clog, "_ZSt4clog", program);
    dlclose(program);  // drops only the reference dlopen(nullptr) took: nothing to undo if it fails
  });
}

}  // namespace mpitune_spm
