// GPT-2's vocab.json + merges.txt: the same BPE with GPT-2's pattern, a "#version" first line,
// CRLF line ends, <|endoftext|> as BOS and EOS (add_bos false) and as one token in text.
#include <gtest/gtest.h>

#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"
#include "tokenizer_files.hpp"

namespace mpitune {
namespace {

using testing::json;
using testing::TempDir;
using testing::write_file;
using Ids = std::vector<int32_t>;

const std::string G = "\xC4\xA0";  // 'Ġ'

void write_gpt2_like(const TempDir& dir, const std::string& eol) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[testing::byte_char(static_cast<unsigned char>(b))] = b;
  vocab["he"] = 256;
  vocab[G + "w"] = 257;
  vocab["<|endoftext|>"] = 258;
  write_file(dir.file("vocab.json"), vocab.dump());
  write_file(dir.file("merges.txt"), "#version: 0.2" + eol + "h e" + eol + G + " w" + eol);
}

TEST(VocabMerges, Gpt2Files) {
  TempDir dir;
  write_gpt2_like(dir, "\n");
  const auto t = load_tokenizer(dir.path(), "");
  EXPECT_EQ(t->kind(), "bpe");
  EXPECT_EQ(t->vocab_size(), 259);
  EXPECT_EQ(t->encode("hex we"), (Ids{256, 120, 257, 101}));
  EXPECT_EQ(t->encode("he<|endoftext|>he"), (Ids{256, 258, 256}));
  EXPECT_EQ(t->bos_id(), 258);
  EXPECT_EQ(t->eos_id(), 258);
  EXPECT_FALSE(t->add_bos());
  EXPECT_EQ(t->decode(t->encode("hex we<|endoftext|>")), "hex we<|endoftext|>");
  EXPECT_EQ(t->files(), (std::vector<std::string>{dir.file("vocab.json"), dir.file("merges.txt")}));
  EXPECT_EQ(t->description(), "bpe (vocab.json + merges.txt in " + dir.path() + "), 259 ids");
}

TEST(VocabMerges, CrLfLineEndsReadTheSame) {
  TempDir lf, crlf;
  write_gpt2_like(lf, "\n");
  write_gpt2_like(crlf, "\r\n");
  EXPECT_EQ(load_tokenizer(crlf.path(), "")->encode("hex we"), load_tokenizer(lf.path(), "")->encode("hex we"));
  // Different bytes, so different fingerprints, though the ids agree.
  EXPECT_NE(load_tokenizer(crlf.path(), "")->fingerprint(), load_tokenizer(lf.path(), "")->fingerprint());
}

}  // namespace
}  // namespace mpitune
