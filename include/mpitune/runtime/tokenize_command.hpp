// `mpitune tokenize --tokenizer DIR|bytes (--text S | --file F) [--json]`: prints the ids of a
// text as mpitune's data layer would get them (encode(): no BOS/EOS added), to check a
// tokenizer folder against its reference by hand. No MPI, no torch.
//
// Output: the ids on one line separated by spaces; with --json one object
// {"tokenizer": "<description>", "ids": [...], "count": N}. Errors: one line on stderr
// ("mpitune: error: ..."), exit code 2.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace mpitune {

int tokenize_command(const std::vector<std::string>& args);
// The same, writing to `out` and `err` (for tests).
int tokenize_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mpitune
