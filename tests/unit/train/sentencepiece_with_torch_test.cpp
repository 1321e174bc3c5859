// SentencePiece in a process that also has libtorch, and so libtorch's libprotobuf.so.32: the case
// that crashed every such executable at start-up while libsentencepiece (and its builtin
// protobuf, same symbol names) was linked directly. Now it is loaded inside the
// mpitune_sentencepiece module (RTLD_LOCAL | RTLD_DEEPBIND): the process's protobuf symbols stay
// libprotobuf's, libsentencepiece's stay out of the global scope, and the ids are spm_encode's.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <link.h>

#include <iostream>
#include <string>
#include <vector>

#include "mpitune/core/error.hpp"
#include "mpitune/tokenize/tokenizer.hpp"
#include "support/temp_dir.hpp"
#include "unit/tokenize/spm_test_model.hpp"

namespace mpitune {
namespace {

using testing::TempDir;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Whether a loaded object's file name contains `part` (a library loaded by any means).
bool library_loaded(const std::string& part) {
  struct Query {
    const std::string* part;
    bool found = false;
  } q{&part};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* query = static_cast<Query*>(data);
        if (info->dlpi_name != nullptr && std::string(info->dlpi_name).find(*query->part) != std::string::npos)
          query->found = true;
        return 0;
      },
      &q);
  return q.found;
}

#ifdef MPITUNE_HAVE_SENTENCEPIECE

// A protobuf function that libprotobuf.so.32 and libsentencepiece's builtin copy both define: the
// one the crash bound to the wrong library.
constexpr const char* kSharedProtobufSymbol =
    "_ZN6google8protobuf8internal13MergeFromImplILb0EEEbNS1_11BoundedZCISEPNS0_11MessageLiteENS4_10ParseFlagsE";

TEST(SentencePieceWithTorch, ProtobufSymbolsStayLibprotobufs) {
  // The conflict's precondition: libtorch brought libprotobuf into this process.
  ASSERT_TRUE(library_loaded("libprotobuf.so"));
  TempDir dir;
  ASSERT_TRUE(testing::train_spm_model(dir, "bpe"));
  const auto tok = load_tokenizer(dir.path(), "");
  ASSERT_TRUE(library_loaded("libsentencepiece.so"));  // loaded now, inside the module

  void* merge = dlsym(RTLD_DEFAULT, kSharedProtobufSymbol);
  ASSERT_NE(merge, nullptr);
  Dl_info where{};
  ASSERT_NE(dladdr(merge, &where), 0);
  EXPECT_TRUE(has(where.dli_fname, "libprotobuf.so")) << where.dli_fname;
  // Nothing of libsentencepiece (nor the module's own interface) is in the global scope.
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "_ZN13sentencepiece22SentencePieceProcessorC1Ev"), nullptr);
  EXPECT_EQ(dlsym(RTLD_DEFAULT, "mpitune_spm_load"), nullptr);
}

TEST(SentencePieceWithTorch, IdsAreSpmEncodesAndIndexATensor) {
  for (const std::string type : {"bpe", "unigram"}) {
    TempDir dir;
    ASSERT_TRUE(testing::train_spm_model(dir, type));
    const auto lines = testing::spm_probe_lines();
    const auto expected = testing::spm_encode_ids(dir, lines);
    ASSERT_EQ(expected.size(), lines.size());
    const auto tok = load_tokenizer(dir.path(), "");
    ASSERT_EQ(tok->vocab_size(), testing::spm_vocab_lines(dir));
    // Row i of the table holds i: looking the ids up must give the ids back.
    const at::Tensor table = at::arange(tok->vocab_size(), at::kFloat).unsqueeze(1);
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::vector<int32_t> ids = tok->encode(lines[i]);
      EXPECT_EQ(ids, expected[i]) << type << ": " << lines[i];
      const std::vector<int64_t> wide(ids.begin(), ids.end());
      const at::Tensor rows = at::embedding(table, at::tensor(wide, at::kLong)).squeeze(1);
      ASSERT_EQ(rows.numel(), static_cast<int64_t>(ids.size()));
      for (size_t k = 0; k < ids.size(); ++k) EXPECT_EQ(rows[static_cast<int64_t>(k)].item<float>(), ids[k]);
    }
  }
}

TEST(SentencePieceWithTorch, AFailedSelfTestIsAnErrorNotACrash) {
  ASSERT_NO_FATAL_FAILURE(testing::expect_own_copy_of_cerr());

  TempDir dir;
  ASSERT_TRUE(testing::train_spm_model(dir, "unigram"));
  testing::write_file(dir.file("tokenizer.model"),
                      testing::with_failing_self_test(testing::read_file(dir.file("tokenizer.model"))));
  try {
    load_tokenizer(dir.path(), "");
    ADD_FAILURE() << "a model whose self-test fails was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.tokenizer");
    EXPECT_TRUE(has(e.what(), "not a SentencePiece model")) << e.what();
    EXPECT_TRUE(has(e.what(), "Self-test failures")) << e.what();
  }
}

#else  // builds without SentencePiece: a tokenizer.model is refused clearly, torch or not

TEST(SentencePieceWithTorch, TokenizerModelNeedsSentencePiece) {
  ASSERT_TRUE(library_loaded("libprotobuf.so"));
  TempDir dir;
  testing::write_file(dir.file("tokenizer.model"), "any bytes");
  try {
    load_tokenizer(dir.path(), "");
    ADD_FAILURE() << "tokenizer.model accepted without SentencePiece";
  } catch (const ConfigError& e) {
    EXPECT_TRUE(has(e.what(), "no SentencePiece")) << e.what();
  }
}

#endif

}  // namespace
}  // namespace mpitune
