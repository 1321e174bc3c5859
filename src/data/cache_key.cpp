// The token cache: its folder, the key of a corpus's token file and the file's name
// (see cache_key.hpp).
#include "mpitune/data/cache_key.hpp"

#include <cstdio>

#include "mpitune/core/file_io.hpp"
#include "mpitune/data/token_corpus.hpp"
#include "mpitune/data/token_file.hpp"
#include "mpitune/tokenize/tokenizer.hpp"

namespace mpitune {
namespace {

// 64-bit FNV-1a over length-prefixed fields: "ab" + "c" and "a" + "bc" hash differently.
class KeyHash {
 public:
  void bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h_ ^= p[i];
      h_ *= 0x100000001b3ULL;
    }
  }
  void u64(uint64_t v) {
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(v >> (8 * i));
    bytes(le, 8);
  }
  void str(const std::string& s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  void real(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    str(buf);
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::string token_cache_dir(const ExperimentConfig& c) {
  if (!c.data.cache_dir.empty()) return c.data.cache_dir;
  return parent_dir(c.output_path()) + "/.token-cache";
}

CorpusFileStamp stamp_corpus_file(const std::string& role, const std::string& path) {
  const FileStatus st = file_status(path);
  CorpusFileStamp s;
  s.role = role;
  s.path = path;
  s.size = st.size;
  s.mtime_ns = st.mtime_ns;
  return s;
}

std::string token_cache_key(const DataOptions& data, const Tokenizer& tok,
                            const std::vector<CorpusFileStamp>& files) {
  KeyHash h;
  h.str("mpitune token file");
  h.u64(kTokenFileVersion);
  h.str(tok.fingerprint());
  h.u64(static_cast<uint64_t>(tok.vocab_size()));
  h.u64(static_cast<uint64_t>(static_cast<int64_t>(tok.bos_id())));
  h.u64(static_cast<uint64_t>(static_cast<int64_t>(tok.eos_id())));
  h.u64(tok.add_bos() ? 1 : 0);
  h.str(data.corpus);
  h.str(data.val_corpus);
  h.str(data.test_corpus);
  h.real(data.val_fraction);
  h.real(data.test_fraction);
  h.u64(data.split_seed);
  h.str(data.document_separator);
  h.str(data.extensions);
  h.str(data.exclude);
  h.str(data.text_field);
  h.str(data.prompt_field);
  h.str(data.completion_field);
  h.u64(files.size());
  for (const auto& f : files) {
    h.str(f.role);
    h.str(f.path);
    h.u64(static_cast<uint64_t>(f.size));
    h.u64(static_cast<uint64_t>(f.mtime_ns));
  }
  return h.hex();
}

std::string token_file_path(const std::string& cache_dir, const std::string& key) {
  return (cache_dir.empty() ? std::string(".") : cache_dir) + "/tokens-" + key + ".bin";
}

}  // namespace mpitune
