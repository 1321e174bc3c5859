// Text files cut into documents by each data.document_separator, and JSONL lines to documents.
#include <gtest/gtest.h>

#include "mpitune/core/error.hpp"
#include "mpitune/data/documents.hpp"
#include "support/temp_dir.hpp"

namespace mpitune {
namespace {

using Docs = std::vector<std::string>;

TEST(TextDocuments, WholeFileIsOneDocumentWithoutSeparator) {
  EXPECT_EQ(split_text_documents("one\n%\ntwo\n", ""), (Docs{"one\n%\ntwo\n"}));
  EXPECT_EQ(split_text_documents(" \n\t\n", ""), Docs{});  // whitespace only: dropped
  EXPECT_EQ(split_text_documents("", ""), Docs{});
}

TEST(TextDocuments, FortuneSeparatorCutsAtLinesEqualToIt) {
  const std::string fortunes = "A day for firm decisions!\n%\nTwo lines\nof text.\n%\n%\nLast, no newline";
  EXPECT_EQ(split_text_documents(fortunes, "%"),
            (Docs{"A day for firm decisions!\n", "Two lines\nof text.\n", "Last, no newline"}));
  // Only a whole line equal to the separator cuts: "%%" and "50%" are text.
  EXPECT_EQ(split_text_documents("50%\n%%\n%\nb\n", "%"), (Docs{"50%\n%%\n", "b\n"}));
  // CRLF files: the separator line is compared without its "\r\n"; documents keep their bytes.
  EXPECT_EQ(split_text_documents("a\r\n%\r\nb\r\n", "%"), (Docs{"a\r\n", "b\r\n"}));
  // A separator at the start, and separators around whitespace-only documents, give no empty ones.
  EXPECT_EQ(split_text_documents("%\n  \n%\nx\n%\n", "%"), Docs{"x\n"});
}

TEST(TextDocuments, AnySeparatorWordWorks) {
  EXPECT_EQ(split_text_documents("a\n<|doc|>\nb\n", "<|doc|>"), (Docs{"a\n", "b\n"}));
}

TEST(TextDocuments, BlankLinesSeparate) {
  const std::string text = "\npara one\nstill one\n\n\n  \t\npara two\n\npara three";
  EXPECT_EQ(split_text_documents(text, "blank"), (Docs{"para one\nstill one\n", "para two\n", "para three"}));
  EXPECT_EQ(split_text_documents("a\r\n\r\nb\r\n", "blank"), (Docs{"a\r\n", "b\r\n"}));
}

TEST(TextDocuments, LineModeGivesEveryNonEmptyLine) {
  EXPECT_EQ(split_text_documents("first\n\n  \nsecond\r\nthird", "line"), (Docs{"first\n", "second\r\n", "third"}));
}

TEST(TextDocuments, InvalidUtf8IsKeptAsBytes) {
  const std::string bad = std::string("caf\xC3") + "\n%\n\xFF\xFE tail\n";
  EXPECT_EQ(split_text_documents(bad, "%"), (Docs{"caf\xC3\n", "\xFF\xFE tail\n"}));
}

DataOptions jsonl_options() {
  DataOptions d;
  d.text_field = "text";
  d.prompt_field = "prompt";
  d.completion_field = "completion";
  return d;
}

TEST(JsonlDocuments, TextAndPromptCompletionLines) {
  const std::string text =
      "{\"text\": \"plain one\"}\n"
      "\n"
      "  \r\n"
      "{\"prompt\": \"Q: 2+2?\\n\", \"completion\": \"4\", \"id\": 7}\r\n"
      "{\"text\": \"caf\\u00e9\", \"prompt\": \"ignored when text is there\"}\n"
      "{\"text\": \"   \"}\n";
  const auto docs = parse_jsonl_documents(text, "f.jsonl", jsonl_options(), "data.corpus");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_FALSE(docs[0].prompted);
  EXPECT_EQ(docs[0].text, "plain one");
  EXPECT_TRUE(docs[1].prompted);
  EXPECT_EQ(docs[1].prompt, "Q: 2+2?\n");
  EXPECT_EQ(docs[1].text, "4");
  EXPECT_FALSE(docs[2].prompted);
  EXPECT_EQ(docs[2].text, "caf\xC3\xA9");  // UTF-8 of the \u escape
}

TEST(JsonlDocuments, FieldNamesComeFromTheOptions) {
  DataOptions d = jsonl_options();
  d.text_field = "content";
  d.prompt_field = "instruction";
  d.completion_field = "output";
  const auto docs = parse_jsonl_documents("{\"content\": \"c\"}\n{\"instruction\": \"i\", \"output\": \"o\"}\n",
                                          "g.jsonl", d, "data.corpus");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].text, "c");
  EXPECT_EQ(docs[1].prompt, "i");
  EXPECT_EQ(docs[1].text, "o");
}

TEST(JsonlDocuments, LineWithoutTheFieldsNamesTextFieldFileAndLine) {
  const std::string text = "{\"text\": \"ok\"}\n\n{\"prompt\": \"only a prompt\"}\n";
  try {
    parse_jsonl_documents(text, "/data/train.jsonl", jsonl_options(), "data.corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.text_field");
    const std::string what = e.what();
    EXPECT_NE(what.find("/data/train.jsonl"), std::string::npos) << what;
    EXPECT_NE(what.find("line 3"), std::string::npos) << what;
  }
}

TEST(JsonlDocuments, MalformedLinesNameTheCorpusKeyAndLine) {
  try {
    parse_jsonl_documents("{\"text\": \"a\"}\n{\"text\": \"unterminated\n", "v.jsonl", jsonl_options(), "data.val_corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.val_corpus");
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  try {
    parse_jsonl_documents("[1, 2]\n", "v.jsonl", jsonl_options(), "data.corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.corpus");
    EXPECT_NE(std::string(e.what()).find("not an object"), std::string::npos) << e.what();
  }
  try {
    parse_jsonl_documents("{\"text\": 12}\n", "v.jsonl", jsonl_options(), "data.corpus");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.field(), "data.text_field");
    EXPECT_NE(std::string(e.what()).find("not a string"), std::string::npos) << e.what();
  }
}

TEST(ReadDocuments, FilesAreReadByKindInCorpusOrder) {
  testing::TempDir dir;
  testing::write_file(dir.file("a.txt"), "one\n%\ntwo\n");
  testing::write_file(dir.file("b.jsonl"), "{\"prompt\": \"p\", \"completion\": \"c\"}\n");
  testing::write_file(dir.file("c.JSONL"), "{\"text\": \"upper-case extension\"}\n");
  DataOptions d = jsonl_options();
  d.document_separator = "%";
  const auto docs = read_documents(dir.path(), d, "data.corpus");
  ASSERT_EQ(docs.size(), 4u);
  EXPECT_EQ(docs[0].text, "one\n");
  EXPECT_EQ(docs[1].text, "two\n");
  EXPECT_TRUE(docs[2].prompted);
  EXPECT_EQ(docs[2].prompt, "p");
  EXPECT_EQ(docs[3].text, "upper-case extension");
}

}  // namespace
}  // namespace mpitune
