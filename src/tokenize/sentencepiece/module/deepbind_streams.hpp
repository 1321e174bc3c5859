// Makes std::cout, std::cerr and std::clog usable from code bound with RTLD_DEEPBIND.
//
// The module is loaded with RTLD_DEEPBIND, so a reference from it or from libsentencepiece to
// std::cerr binds to libstdc++'s own definition of the object first. An executable that writes to
// std::cerr itself (the tests, mpitune) holds a copy of that object instead (an R_X86_64_COPY
// relocation), and libstdc++ constructs only the copy: its own storage stays zero bytes, and the
// first line SentencePiece logs (LOG(...) writes to std::cerr; a failed self-test of a
// tokenizer.model does) would crash the process. repair_deepbind_streams() constructs, in each
// such never-constructed stream, an ostream that writes into the process's own stream buffer, so
// SentencePiece's messages reach stderr as they would without the module. Where the executable
// has no copy (the stream this module sees is the process's), it changes nothing.
#pragma once

namespace mpitune_spm {

// Idempotent; call it before the first SentencePiece call.
void repair_deepbind_streams();

}  // namespace mpitune_spm
