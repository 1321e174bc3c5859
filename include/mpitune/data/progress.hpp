// The progress line of a long tokenization, on stderr:
//   mpitune: tokenizing /usr/share/games/fortunes: 41% (1203/2900 documents, 0.8M tokens, 3 s)
// Nothing is shown for work that ends within the first ~2 s. After that, on a terminal one line
// is rewritten in place ('\r') every second; in a log file (Slurm's output, mpirun's forwarded
// stderr) a new line is written every 10 s, so logs stay short. A final line gives the totals:
//   mpitune: tokenized /usr/share/games/fortunes: 15216 documents, 2.6M tokens in 0.7 s
// The clock and the output are parameters so the timing rules are tested without sleeping.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace mpitune {

// "950", "41230", "0.8M", "2.6M", "1.2B": the token counts of progress lines.
std::string format_token_count(int64_t tokens);

// The line without '\r' or '\n'.
std::string progress_line(const std::string& label, int64_t done, int64_t total, int64_t tokens,
                          double seconds);
std::string final_progress_line(const std::string& label, int64_t documents, int64_t tokens,
                                double seconds);

class ProgressMeter {
 public:
  using Clock = std::function<double()>;               // seconds, monotonic
  using Sink = std::function<void(const std::string&)>;  // writes the text as given

  // The real one: stderr, terminal or not as isatty says, the steady clock. Shows nothing when
  // `enabled` is false.
  ProgressMeter(std::string label, int64_t total, bool enabled);
  ProgressMeter(std::string label, int64_t total, bool enabled, bool terminal, Clock clock, Sink sink);

  // The documents to do, once they are known (the clock runs from construction).
  void set_total(int64_t total) { total_ = total; }
  // Called often (several times a second); writes a line only when one is due.
  void update(int64_t done, int64_t tokens);
  // The final line (when enabled), ending any line rewritten in place.
  void finish(int64_t documents, int64_t tokens);

  static constexpr double kQuietSeconds = 2.0;
  static constexpr double kTerminalInterval = 1.0;
  static constexpr double kLogInterval = 10.0;

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool terminal_;
  Clock clock_;
  Sink sink_;
  double start_;
  double last_shown_ = -1;      // < 0: nothing shown yet
  size_t shown_width_ = 0;      // of the line rewritten in place, to blank its tail
};

}  // namespace mpitune
