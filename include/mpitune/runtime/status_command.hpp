// `mpitune status FILE [--watch S] [--rows N]`: the live view of an experiment from any shell
// (a login node, another terminal): report/status_table.hpp's summary and trial table, read
// from the result file as an SWMR reader, so it works while rank 0 writes the file and after.
//
// On a terminal the table is cut to the terminal's height (TIOCGWINSZ, read at each redraw, so
// a resized window is followed); into a pipe or file every trial is printed, unless --rows N.
// --watch S redraws every S seconds (clearing the screen on a terminal) until the file's
// /summary is no longer "running", prints the view once more and exits 0; on a finished file it
// prints once and exits at once. A file that says "running" but whose job is gone (its lock
// file left, nobody holding it: killed; store/hdf5_store.hpp's probe_output_writer) is shown
// as such, and --watch stops there too. A read that fails while the file is being written (a
// metadata block caught mid-update) is retried at the next redraw, a few times at most.
// A missing file or one that is not a result file: one error line, exit code 2 (as report).
#pragma once

#include <string>
#include <vector>

namespace mpitune {

// Exit code 0; throws ConfigError for bad flags or files, InfraError when reading fails.
int status_command(const std::vector<std::string>& args);

}  // namespace mpitune
