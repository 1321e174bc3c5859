// Error kinds of mpitune and the check macros that raise them.
//
// Three kinds, because each is handled differently:
//  - ConfigError: the user's input is wrong. Reported as one line naming the field and the fix,
//    before anything is written; the job exits with code 2 on every rank.
//  - TrialError: one trial failed (exception in training, non-finite loss). Recorded as failed
//    with its reason; the experiment goes on.
//  - InfraError: MPI, NCCL, CUDA, HDF5 or the filesystem failed. The job cannot go on.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

namespace mpitune {

class ConfigError : public std::runtime_error {
 public:
  // field: "section.key" (or a CLI flag); problem: what is wrong; fix: what to do instead.
  ConfigError(const std::string& field, const std::string& problem, const std::string& fix = "")
      : std::runtime_error(field + ": " + problem + (fix.empty() ? "" : "; " + fix)),
        field_(field) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

class TrialError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InfraError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "file.cpp:42" for messages that must say where a failing call was made.
std::string source_place(const char* file, int line);

// Runs `fn`; the text of what it threw, or none. A group turns a trial's exceptions into a
// failure reason its ranks agree on, instead of a crash.
template <class F>
std::optional<std::string> error_text_of(F&& fn) {
  try {
    fn();
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

}  // namespace mpitune

// Throws InfraError naming the place when `cond` is false. For invariants of mpitune itself.
#define MPITUNE_CHECK(cond, msg)                                                        \
  do {                                                                                  \
    if (!(cond))                                                                        \
      throw ::mpitune::InfraError(::mpitune::source_place(__FILE__, __LINE__) + ": " + \
                                  std::string(msg));                                    \
  } while (0)
