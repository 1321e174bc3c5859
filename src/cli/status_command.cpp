// mpitune status (see runtime/status_command.hpp): reads the file, prints the view, and with
// --watch repeats until the experiment is no longer running.
#include "mpitune/runtime/status_command.hpp"

#include <boost/program_options.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>

#include "mpitune/core/error.hpp"
#include "mpitune/report/status_table.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

// Consecutive failed reads of a file being written before --watch gives up.
constexpr int kMaxFailedReads = 5;

// The terminal's height in lines, or 0 when stdout is not a terminal (or does not say).
size_t terminal_lines() {
  if (!isatty(STDOUT_FILENO)) return 0;
  struct winsize ws {};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_row;
}

void sleep_seconds(double seconds) {
  struct timespec left;
  left.tv_sec = static_cast<time_t>(seconds);
  left.tv_nsec = static_cast<long>((seconds - std::floor(seconds)) * 1e9);
  while (nanosleep(&left, &left) != 0)
    if (errno != EINTR) throw InfraError(std::string("nanosleep: ") + std::strerror(errno));
}

void print_view(const ExperimentData& d, size_t rows, bool clear, const std::string& note) {
  StatusViewOptions options;
  options.status_note = note;
  options.max_rows = rows;
  // Leave the last line of the terminal for the cursor (and the shell's prompt after the end).
  const size_t height = rows == 0 ? terminal_lines() : 0;
  options.max_lines = height > 1 ? height - 1 : height;
  const std::string text = format_status_view(d, options);
  if (clear) std::fputs("\033[H\033[2J", stdout);  // cursor home, clear the screen
  if (std::fputs(text.c_str(), stdout) < 0 || std::fflush(stdout) != 0)
    throw InfraError(std::string("mpitune status: writing to stdout failed: ") + std::strerror(errno));
}

}  // namespace

int status_command(const std::vector<std::string>& args) {
  po::options_description desc(
      "mpitune status FILE [--watch S] [--rows N]\n"
      "  The live view of an experiment, running or finished, from any shell: the summary (status,\n"
      "  elapsed time, device-minutes, trials by status, the best so far) and one row per trial (id,\n"
      "  status, hyperparameters, step, last and best metric, group), best first. On a terminal the\n"
      "  table is cut to its height (\"... N more\"); into a pipe every trial is printed.\n\noptions");
  desc.add_options()("help,h", "this help")
      ("file", po::value<std::string>(), "the result file (.h5)")
      ("watch,w", po::value<double>(), "redraw every S seconds until the experiment is no longer running")
      ("rows,n", po::value<int>(), "print at most N trial rows (default: the terminal's height, or all)");
  po::positional_options_description pos;
  pos.add("file", 1);
  const po::variables_map vm = parse_command_line(args, desc, &pos, "status");
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (!vm.count("file")) throw ConfigError("status", "no result file given", "mpitune status results/NAME.h5");
  const std::string path = vm["file"].as<std::string>();
  double watch = 0;
  if (vm.count("watch")) {
    watch = vm["watch"].as<double>();
    if (!(watch > 0) || !std::isfinite(watch))
      throw ConfigError("--watch", "must be a positive number of seconds", "e.g. --watch 5");
  }
  size_t rows = 0;
  if (vm.count("rows")) {
    if (vm["rows"].as<int>() < 1) throw ConfigError("--rows", "must be at least 1", "e.g. --rows 20");
    rows = static_cast<size_t>(vm["rows"].as<int>());
  }
  const bool clear = watch > 0 && isatty(STDOUT_FILENO);
  int failed_reads = 0;
  bool shown = false;
  for (;;) {
    try {
      const ExperimentData d = read_hdf5_experiment(path);
      failed_reads = 0;
      // A file that says "running" but whose job holds no lock any more will never finish.
      const bool gone = d.summary.status == "running" &&
                        probe_output_writer(path).state == OutputWriter::State::Gone;
      print_view(d, rows, clear, gone ? "but its job ended without closing the file" : "");
      shown = true;
      if (watch <= 0 || d.summary.status != "running" || gone) return 0;
    } catch (const InfraError& e) {
      // A file being written can be caught mid-update; a bad file fails the first read (ConfigError).
      if (!shown || watch <= 0 || ++failed_reads >= kMaxFailedReads) throw;
      std::fprintf(stderr, "mpitune: warning: %s (retrying)\n", e.what());
    }
    sleep_seconds(watch);
  }
}

}  // namespace mpitune
