// The byte tokenizer: id = byte, 256 ids, no special tokens, decode skips foreign ids.
#include <gtest/gtest.h>

#include "mpitune/tokenize/tokenizer.hpp"

namespace mpitune {
namespace {

TEST(ByteTokenizer, IdsAreBytes) {
  const auto t = make_byte_tokenizer();
  EXPECT_EQ(t->encode("A\xFF\n"), (std::vector<int32_t>{65, 255, 10}));
  EXPECT_EQ(t->decode({72, 105, 300, -1, 0xC3, 0xA9}), "Hi\xC3\xA9");
  EXPECT_EQ(t->vocab_size(), 256);
  EXPECT_EQ(t->bos_id(), -1);
  EXPECT_EQ(t->eos_id(), -1);
  EXPECT_FALSE(t->add_bos());
  EXPECT_EQ(t->kind(), "bytes");
  EXPECT_TRUE(t->files().empty());
  EXPECT_EQ(t->fingerprint(), make_byte_tokenizer()->fingerprint());
}

}  // namespace
}  // namespace mpitune
