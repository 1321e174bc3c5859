// The hand-over from the torch-free `mpitune` to `mpitune-torch`, its sibling in the same folder.
//
// Merely loading libtorch costs ~0.7 s of CPU per process (its static initialisers and ~290
// shared libraries): 17 ranks on 2 cores spent 6 of a job's 8 s starting. So `mpitune` links no
// libtorch, and a process that needs it (eval, export, and the worker ranks of a run whose
// trainable is a GPT) replaces itself with mpitune-torch by execv() before MPI_Init: same argv,
// same environment, same PID, so the launcher never notices. The decision reads the command
// line and the config the way `run` does; a config it cannot parse is left to `mpitune` itself,
// which reports it exactly as before. mpitune-torch never hands over (its main does not ask).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mpitune {

// Set in the environment of a process that was handed over: the path of the mpitune that did
// it. mpitune never hands over when it is set (no loop, whatever mpitune-torch turns out to be).
constexpr const char* kHandedOverEnv = "MPITUNE_HANDED_OVER";

// Whether `mpitune ARGS` (the words after the program name) must run in mpitune-torch, for the
// process with launcher rank `rank` (nullopt: none known, which counts as a worker).
//   eval, export                 always
//   validate                     only when libtorch is a CUDA build (`torch_has_cuda`): the
//                                device check asks libtorch whether CUDA is usable
//   run with trainable = gpt     the workers; rank 0 too when torch_has_cuda (same reason), or
//                                for `--resume FILE` without --config (its config is in FILE)
//   anything else                never (synthetic runs, report, status, simulate, tokenize, help)
// Rank 0 of a gpt run needs nothing else from torch: parameter counts, the corpus and the final
// report are torch-free, and the export of the best trial runs mpitune-torch as a child.
bool needs_torch(const std::vector<std::string>& args, std::optional<int> rank, bool torch_has_cuda);

// This process's rank as its launcher tells it before MPI starts: OMPI_COMM_WORLD_RANK,
// PMIX_RANK, PMI_RANK or SLURM_PROCID, the first that is set; nullopt when none is.
std::optional<int> launcher_rank();

// The path of this executable (/proc/self/exe) and of mpitune-torch beside it.
std::string this_executable_path();
std::string torch_sibling_path();

// mpitune's main calls this first: execv()s mpitune-torch when needs_torch() says so, else
// returns. When mpitune-torch is not there: one line saying so, exit code 2.
void hand_over_to_torch_if_needed(int argc, char** argv);

// Runs `mpitune-torch COMMAND ARGS...` as a child process (stdout and stderr shared) and returns
// its exit code: how the torch-free mpitune runs eval and export when it reaches them after MPI
// started (rank 0's export of the best trial at the end of a run). 2 with a line when
// mpitune-torch is missing.
int run_torch_command(const std::string& command, const std::vector<std::string>& args);

// mpitune-torch's main calls this: with `run --verbose`, a process that was handed over says so
// on stderr ("mpitune: rank R runs in mpitune-torch ..."), one line per such rank.
void note_torch_hand_over(int argc, char** argv);

}  // namespace mpitune
