// Corpus files, the per-file train/validation split and window sampling (see data.hpp).
// Folders are listed with POSIX calls, not std::filesystem: the pip libtorch of CUDA builds
// exports its own copy of std::filesystem's symbols, and a program that binds to it crashes.
#include "mpitune/train/data.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "mpitune/core/error.hpp"

namespace mpitune {

namespace {

constexpr const char* kCorpusField = "data.corpus";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(kCorpusField, "cannot read '" + path + "'", "check its permissions");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ConfigError(kCorpusField, "error while reading '" + path + "'");
  return text;
}

}  // namespace

std::vector<std::string> corpus_files(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)  // follows a symlink given as the corpus itself
    throw ConfigError(kCorpusField, "'" + path + "' does not exist",
                      "install the Debian package fortunes or point data.corpus at a text file or folder");
  if (S_ISREG(st.st_mode)) return {path};
  if (!S_ISDIR(st.st_mode))
    throw ConfigError(kCorpusField, "'" + path + "' is neither a file nor a folder",
                      "point data.corpus at a text file or a folder of text files");
  DIR* dir = ::opendir(path.c_str());
  if (!dir)
    throw ConfigError(kCorpusField, "cannot list '" + path + "': " + std::strerror(errno), "check its permissions");
  std::vector<std::string> files;
  const std::string prefix = path.back() == '/' ? path : path + "/";
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    // lstat: fortunes ships "art.u8 -> art"; following links would read texts twice.
    struct stat entry {};
    if (::lstat((prefix + name).c_str(), &entry) != 0 || !S_ISREG(entry.st_mode)) continue;
    if (ends_with(name, ".dat")) continue;
    files.push_back(prefix + name);
  }
  ::closedir(dir);
  std::sort(files.begin(), files.end());
  return files;
}

int64_t held_out_bytes(int64_t size, double val_fraction) {
  return static_cast<int64_t>(std::floor(static_cast<double>(size) * val_fraction));
}

SplitSizes split_sizes(const std::vector<std::string>& files, double val_fraction) {
  SplitSizes out;
  for (const auto& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0)
      throw ConfigError(kCorpusField, "cannot stat '" + f + "': " + std::strerror(errno));
    const auto size = static_cast<int64_t>(st.st_size);
    const int64_t held = held_out_bytes(size, val_fraction);
    out.train += size - held;
    out.validation += held;
  }
  return out;
}

void Corpus::add(const std::string& text, double val_fraction) {
  const auto size = static_cast<int64_t>(text.size());
  const int64_t cut = size - held_out_bytes(size, val_fraction);
  train_.append(text, 0, static_cast<size_t>(cut));
  validation_.append(text, static_cast<size_t>(cut), std::string::npos);
}

Corpus Corpus::load(const std::string& path, double val_fraction) {
  Corpus c;
  for (const auto& f : corpus_files(path)) c.add(read_whole_file(f), val_fraction);
  return c;
}

Corpus Corpus::from_texts(const std::vector<std::string>& texts, double val_fraction) {
  Corpus c;
  for (const auto& t : texts) c.add(t, val_fraction);
  return c;
}

std::vector<int64_t> draw_windows(Rng& rng, int64_t split_bytes, int64_t window, int64_t count) {
  MPITUNE_CHECK(split_bytes >= window && window > 0, "split smaller than one window");
  std::vector<int64_t> out(static_cast<size_t>(count));
  for (auto& o : out) o = rng.integer(0, split_bytes - window);
  return out;
}

std::vector<int64_t> spaced_windows(int64_t split_bytes, int64_t window, int64_t count) {
  MPITUNE_CHECK(split_bytes >= window && window > 0, "split smaller than one window");
  const int64_t last = split_bytes - window;
  std::vector<int64_t> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    // Integer arithmetic (in 128 bits against overflow) so every platform picks the same bytes.
    out[static_cast<size_t>(i)] =
        count == 1 ? 0 : static_cast<int64_t>(static_cast<__int128>(last) * i / (count - 1));
  return out;
}

std::vector<uint8_t> read_windows(const std::string& split, const std::vector<int64_t>& offsets,
                                  int64_t begin, int64_t end, int64_t window) {
  MPITUNE_CHECK(begin >= 0 && begin <= end && end <= static_cast<int64_t>(offsets.size()),
                "window rows out of range");
  std::vector<uint8_t> out(static_cast<size_t>((end - begin) * window));
  uint8_t* dst = out.data();
  for (int64_t i = begin; i < end; ++i, dst += window) {
    const int64_t off = offsets[static_cast<size_t>(i)];
    MPITUNE_CHECK(off >= 0 && off + window <= static_cast<int64_t>(split.size()), "window past the split");
    std::copy_n(reinterpret_cast<const uint8_t*>(split.data()) + off, window, dst);
  }
  return out;
}

RowRange rank_rows(int64_t rows, int rank, int size) {
  MPITUNE_CHECK(size >= 1 && rank >= 0 && rank < size, "rank out of range");
  MPITUNE_CHECK(rows % size == 0, "global batch not divisible by the group size");
  return {rank * rows / size, (rank + 1) * rows / size};
}

}  // namespace mpitune
