// Damages copies of a result file at seeded random places and reads each one in a forked child
// process, so that a crash or a hang of the reader is observed instead of suffered: the child is
// killed after a time limit and counted as a hang, a death by signal counts as a crash.
//
// Shared by the fuzz test (tests/unit/store/corruption_fuzz_test.cpp, a few hundred files) and
// the benchmark (bench/result_fuzz.cpp, thousands). No GoogleTest here.
//
// Two kinds of damage, as disks and interrupted copies make them:
//  - a byte flip: one byte XORed with a random non-zero mask. Most bytes of a small result file
//    are raw table rows (mostly zero padding), where a flip only changes a value; so half of the
//    flips land on a non-zero byte (almost all metadata: headers, B-trees, heaps, checksums, and
//    the row contents that a reader must parse), the other half anywhere.
//  - a truncation: the file cut at a random length.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mpitune::testing {

struct Damage {
  enum class Kind { FlipByte, Truncate };
  Kind kind = Kind::FlipByte;
  uint64_t offset = 0;  // the byte flipped, or the new length
  uint8_t mask = 0;     // FlipByte: XORed into the byte
  std::string describe() const;  // "flip byte 1234 ^ 0x40", "truncate to 5678 bytes"
};

// `count` damages of a file with these bytes, from `seed` (the same seed, the same damages);
// `truncate_share` of them truncations.
std::vector<Damage> draw_damages(const std::string& file_bytes, uint64_t seed, size_t count,
                                 double truncate_share);

// A whole file's bytes, and writing them (replacing the file); throw std::runtime_error.
std::string read_file_bytes(const std::string& path);
void write_file_bytes(const std::string& path, const std::string& bytes);

// The file's bytes with `damage` applied.
std::string apply_damage(const std::string& file_bytes, const Damage& damage);

enum class ReadOutcome {
  Read,          // read_hdf5_experiment returned
  ConfigError,   // threw ConfigError with a one-line message
  InfraError,    // threw InfraError with a one-line message
  BadError,      // threw something else, or a message that is empty or spans lines
  Crash,         // the child died (a signal, or an exit without reporting)
  Hang,          // the child did not finish within the time limit and was killed
};
const char* outcome_name(ReadOutcome o);

struct IsolatedRead {
  ReadOutcome outcome = ReadOutcome::Crash;
  std::string message;       // the exception's text, or what the child's end was
  std::string child_stderr;  // everything the child wrote to stderr
  double seconds = 0;        // wall time of the child
};

// Forks; the child runs `body` and reports how it ended (returned, or which exception) through
// a pipe, its stderr through another; the parent waits at most `timeout_s` (poll on the pipes,
// no sleeping) and kills a child that takes longer.
IsolatedRead run_in_child(const std::function<void()>& body, double timeout_s);

// run_in_child of read_hdf5_experiment(path).
IsolatedRead read_in_child(const std::string& path, double timeout_s);

// Whether `child_stderr` holds nothing but the reader's own warning lines.
bool only_reader_warnings(const std::string& child_stderr);

struct FuzzTally {
  size_t files = 0;
  size_t reads = 0, config_errors = 0, infra_errors = 0, bad_errors = 0, crashes = 0, hangs = 0;
  size_t noisy = 0;           // children that wrote to stderr anything but the reader's warnings
  double slowest_s = 0;       // the slowest child that finished
  std::string slowest;        // its damage
  std::vector<std::string> problems;  // "flip byte 12 ^ 0x01: hang", the first 20 of them
  // How many errors had each message, with the file's path cut and digits written as #.
  std::map<std::string, size_t> error_kinds;
  size_t failures() const { return bad_errors + crashes + hangs + noisy; }
};

struct FuzzOptions {
  uint64_t seed = 1;
  size_t copies = 300;
  double truncate_share = 0.25;
  double timeout_s = 3.0;
  // Stop early once this many problems were seen (a broken reader should not cost an hour).
  size_t stop_after_problems = 10;
  std::string work_dir;  // where the damaged copies go (one at a time)
};

// Damages `options.copies` copies of the file at `original` and reads each in a child.
FuzzTally fuzz_reader(const std::string& original, const FuzzOptions& options);

}  // namespace mpitune::testing
