// Result-file fuzz benchmark: damages thousands of copies of a real result file (byte flips and
// truncations at seeded random places) and reads each with read_hdf5_experiment in a forked
// child, then prints how the reads ended: hangs (killed after the time limit), crashes,
// clean errors (ConfigError / InfraError with one line), bad errors, clean reads.
//
//   result_fuzz [--copies 1000] [--seed 1] [--timeout 5] [--truncate-share 0.25] [--file F.h5]
//       --file: damage copies of this result file instead of the sample the benchmark writes
//   result_fuzz --flip OFFSET:MASK | --truncate LENGTH
//       one damage (as a problem line prints it), read in this process: to debug it (gdb)
//
// Exit code 0 when there was no hang, crash, bad error or HDF5 noise on stderr, 1 otherwise.
// The fuzz test in the suite (tests/unit/store/corruption_fuzz_test.cpp) runs a few hundred
// copies of the same file; this is the bigger run, not part of ctest.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "corruption_fuzz.hpp"
#include "sample_experiment.hpp"

namespace {

struct Args {
  std::string flip, truncate;  // one damage to replay in-process
  std::string file;            // the file to damage; "" = write the sample experiment
  size_t copies = 1000;
  uint64_t seed = 1;
  double timeout_s = 5;
  double truncate_share = 0.25;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "result_fuzz: %s needs a value\n", flag.c_str());
      std::exit(2);
    }
    const char* value = argv[++i];
    if (flag == "--flip") a.flip = value;
    else if (flag == "--truncate") a.truncate = value;
    else if (flag == "--copies") a.copies = std::strtoull(value, nullptr, 10);
    else if (flag == "--seed") a.seed = std::strtoull(value, nullptr, 10);
    else if (flag == "--timeout") a.timeout_s = std::strtod(value, nullptr);
    else if (flag == "--truncate-share") a.truncate_share = std::strtod(value, nullptr);
    else if (flag == "--file") a.file = value;
    else {
      std::fprintf(stderr,
                   "result_fuzz: unknown flag %s (--copies, --seed, --timeout, --truncate-share, --flip, "
                   "--truncate, --file)\n",
                   flag.c_str());
      std::exit(2);
    }
  }
  return a;
}

// Reads the sample file with one damage in this process and prints how it ended.
int replay(const Args& args, const std::string& dir) {
  using mpitune::testing::Damage;
  const std::string original = args.file.empty() ? dir + "/original.h5" : args.file;
  if (args.file.empty()) mpitune::testing::write_sample_result_file(original);
  Damage d;
  if (!args.flip.empty()) {
    d.kind = Damage::Kind::FlipByte;
    d.offset = std::strtoull(args.flip.c_str(), nullptr, 10);
    const size_t colon = args.flip.find(':');
    d.mask = static_cast<uint8_t>(
        colon == std::string::npos ? 0xff : std::strtoul(args.flip.c_str() + colon + 1, nullptr, 0));
  } else {
    d.kind = Damage::Kind::Truncate;
    d.offset = std::strtoull(args.truncate.c_str(), nullptr, 10);
  }
  const std::string damaged = dir + "/damaged.h5";
  mpitune::testing::write_file_bytes(damaged,
                                     mpitune::testing::apply_damage(mpitune::testing::read_file_bytes(original), d));
  std::printf("result_fuzz: %s\n", d.describe().c_str());
  const mpitune::ExperimentData data = mpitune::read_hdf5_experiment(damaged);
  std::printf("read: %zu trials, %zu metric rows\n", data.trials.size(), data.metrics.size());
  return 0;
}

// The fuzz run: prints the tally; 0 when nothing but clean reads and clean errors.
int fuzz(const Args& args, const std::string& dir) {
  const std::string original = args.file.empty() ? dir + "/original.h5" : args.file;
  if (args.file.empty()) mpitune::testing::write_sample_result_file(original);
  mpitune::testing::FuzzOptions options;
  options.seed = args.seed;
  options.copies = args.copies;
  options.truncate_share = args.truncate_share;
  options.timeout_s = args.timeout_s;
  options.stop_after_problems = args.copies;  // count everything
  options.work_dir = dir;
  const auto start = std::chrono::steady_clock::now();
  const mpitune::testing::FuzzTally t = mpitune::testing::fuzz_reader(original, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("result_fuzz: %zu damaged copies of %s, %ju bytes (seed %llu, %.0f%% truncations, "
              "time limit %.1f s)\n",
              t.files, args.file.empty() ? "the sample result file" : args.file.c_str(),
              static_cast<uintmax_t>(std::filesystem::file_size(original)),
              static_cast<unsigned long long>(args.seed), args.truncate_share * 100, args.timeout_s);
  std::printf("  hangs          %zu\n", t.hangs);
  std::printf("  crashes        %zu\n", t.crashes);
  std::printf("  bad errors     %zu  (not ConfigError/InfraError, empty, or more than one line)\n",
              t.bad_errors);
  std::printf("  clean errors   %zu  (ConfigError %zu, InfraError %zu)\n", t.config_errors + t.infra_errors,
              t.config_errors, t.infra_errors);
  std::printf("  clean reads    %zu\n", t.reads);
  std::printf("  stderr noise   %zu  (children that printed more than the reader's warnings)\n", t.noisy);
  std::printf("  slowest read   %.3f s (%s); all %zu in %.1f s\n", t.slowest_s, t.slowest.c_str(), t.files,
              seconds);
  for (const auto& p : t.problems) std::printf("  problem: %s\n", p.c_str());
  std::vector<std::pair<size_t, std::string>> kinds;
  for (const auto& [text, n] : t.error_kinds) kinds.emplace_back(n, text);
  std::sort(kinds.rbegin(), kinds.rend());
  std::printf("  the most frequent error messages (path cut, digits as #):\n");
  for (size_t i = 0; i < kinds.size() && i < 15; ++i)
    std::printf("  %5zu  %s\n", kinds[i].first, kinds[i].second.substr(0, 160).c_str());
  return t.failures() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  const char* base = std::getenv("TMPDIR");
  std::string dir = std::string(base && *base ? base : "/tmp") + "/mpitune-result-fuzz-XXXXXX";
  if (!mkdtemp(dir.data())) {
    std::perror("result_fuzz: mkdtemp");
    return 1;
  }
  int rc = 1;
  try {
    rc = args.flip.empty() && args.truncate.empty() ? fuzz(args, dir) : replay(args, dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "result_fuzz: %s\n", e.what());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
