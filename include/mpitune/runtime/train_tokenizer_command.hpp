// `mpitune train-tokenizer --corpus PATH --vocab-size N --out DIR [--exclude LIST]
// [--document-separator S] [--extensions LIST] [--min-frequency N]`: trains a byte-level BPE
// tokenizer (tokenize/bpe_trainer.hpp) on the documents of a corpus, read as [data] reads them
// (the same folder walk, data.exclude, data.document_separator and data.extensions rules), and
// writes DIR/tokenizer.json + DIR/tokenizer_config.json, a folder `data.tokenizer` accepts.
// No MPI, no torch: one core, seconds for a few MB of text.
//
// Output: one summary line (ids, merges, documents, words, seconds, folder) on `out`, plus a
// warning line when the corpus ran out of pairs before --vocab-size. Errors: one line on `err`
// ("mpitune: error: ..." naming the flag), exit code 2.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace mpitune {

int train_tokenizer_command(const std::vector<std::string>& args);
// The same, writing to `out` and `err` (for tests).
int train_tokenizer_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mpitune
