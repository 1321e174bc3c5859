// The documents of a corpus path: which files are read, and how each file becomes documents.
//
// A corpus path (data.corpus, data.val_corpus, data.test_corpus) is a file or a folder. A
// folder is walked recursively and its files are read in byte order of their relative path, so
// the documents (and therefore the split and the token file) do not depend on the order the
// filesystem lists entries in. The walk skips:
//  - hidden files and folders (".git", ".token-cache", editor swap files);
//  - symlinks, to files and folders alike: fortunes ships "art.u8 -> art", and following links
//    would read those texts twice (a symlink given as the corpus path itself is followed);
//  - files ending in ".dat" (fortunes' index files), unless data.extensions lists "dat";
//  - when data.extensions is not empty, files whose extension it does not list;
//  - for data.corpus, the files and folders data.exclude lists (see list_corpus_files).
// data.extensions is a comma-separated list, entries with or without the dot ("txt, .md,
// jsonl"), compared without regard to case; "" or "none" as an entry matches files without an
// extension. A corpus path that is a file is read whatever its extension.
//
// A "*.jsonl" file holds one JSON object per non-empty line: data.text_field gives a plain
// document; otherwise data.prompt_field + data.completion_field give a prompted one (the loss
// counts on the completion only). Any other file is text, cut by data.document_separator:
//  - ""      the whole file is one document;
//  - "blank" runs of blank (empty or whitespace-only) lines separate documents;
//  - "line"  every non-empty line is a document;
//  - else    a line exactly equal to it separates documents ("%" for fortune files).
// A document is a run of whole lines and keeps their line ends, so that concatenated documents
// read as the original text even for a tokenizer without EOS (bytes). Separator lines are
// compared without their "\n" or "\r\n". Documents of whitespace only are dropped. Text is kept
// as bytes: invalid UTF-8 is not rejected, the tokenizer decides what to do with it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mpitune/core/config.hpp"

namespace mpitune {

struct Document {
  std::string text;     // the text, or the completion of a prompted document
  std::string prompt;   // only when prompted
  bool prompted = false;
};

// The files of corpus `path` in reading order. `key` is the config field that named the path
// ("data.corpus", "data.val_corpus", ...): a missing path, an unreadable folder or a folder with
// no file to read is a ConfigError naming it.
// `exclude` (data.exclude, see corpus_exclude) is a comma-separated list of paths relative to the
// folder `path`, each a file or a folder, whose files are not read ("computers, off/racism"): a
// held-out category. Entries are compared by whole path components ("art" excludes "art" and
// "art/...", not "artists"); "./" in front and "/" behind are ignored, empty entries too. An entry
// that is absolute, contains "..", or matches none of the files the walk would read, and any
// entry when `path` is a file, is a ConfigError naming data.exclude.
std::vector<std::string> list_corpus_files(const std::string& path, const std::string& extensions,
                                           const std::string& exclude, const std::string& key);

// data.exclude applies to data.corpus only: it holds out part of the training folder, while
// val_corpus / test_corpus (often that held-out part itself) are read whole. The exclude list
// for the corpus named by `key`: data.exclude for "data.corpus", "" for any other key.
const std::string& corpus_exclude(const DataOptions& data, const std::string& key);

// Whether a file `name` (no folder) is kept by the data.extensions list (see above).
bool extension_selected(const std::string& name, const std::string& extensions);

// A text cut by data.document_separator (see above).
std::vector<std::string> split_text_documents(std::string_view text, const std::string& separator);

// The documents of one JSONL text; `file` names it in errors (with the 1-based line number).
// A line that is not a JSON object (JSON must be UTF-8: a line with invalid UTF-8 is one) is a
// ConfigError naming `key`; a field that is not a string names its own key (data.text_field,
// data.prompt_field, data.completion_field); a line with neither text_field nor prompt_field +
// completion_field is a ConfigError naming data.text_field. A line whose text is whitespace
// only, or whose prompt and completion are both empty, gives no document.
std::vector<Document> parse_jsonl_documents(std::string_view text, const std::string& file,
                                            const DataOptions& data, const std::string& key);

// Every document of every file of corpus `path` (data.exclude applied when `key` is data.corpus),
// in corpus order (files in reading order, then
// the documents of each file in file order). Throws ConfigError naming `key` when a file cannot
// be read.
std::vector<Document> read_documents(const std::string& path, const DataOptions& data,
                                     const std::string& key);
// The same for a list of files already found by list_corpus_files.
std::vector<Document> read_documents(const std::vector<std::string>& files, const DataOptions& data,
                                     const std::string& key);

}  // namespace mpitune
