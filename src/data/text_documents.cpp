// A text file cut into documents by data.document_separator (see documents.hpp).
#include <string>
#include <string_view>
#include <vector>

#include "mpitune/data/documents.hpp"

namespace mpitune {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_blank(std::string_view s) {
  for (char c : s)
    if (!is_space(c)) return false;
  return true;
}

// The documents of one text, as a run of whole lines [begin, end) at a time.
class DocumentCutter {
 public:
  explicit DocumentCutter(std::string_view text) : text_(text) {}

  void add_line(size_t begin, size_t end) {
    if (!open_) begin_ = begin;
    open_ = true;
    end_ = end;
  }
  void close() {
    if (open_) {
      const std::string_view doc = text_.substr(begin_, end_ - begin_);
      if (!is_blank(doc)) docs_.emplace_back(doc);
    }
    open_ = false;
  }
  std::vector<std::string> take() {
    close();
    return std::move(docs_);
  }

 private:
  std::string_view text_;
  bool open_ = false;
  size_t begin_ = 0, end_ = 0;
  std::vector<std::string> docs_;
};

}  // namespace

std::vector<std::string> split_text_documents(std::string_view text, const std::string& separator) {
  if (separator.empty()) {
    if (is_blank(text)) return {};
    return {std::string(text)};
  }
  enum class Mode { Blank, Line, Equal };
  const Mode mode = separator == "blank" ? Mode::Blank : separator == "line" ? Mode::Line : Mode::Equal;
  DocumentCutter cut(text);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? text.size() : nl + 1;  // the line with its '\n'
    std::string_view content = text.substr(pos, (nl == std::string_view::npos ? text.size() : nl) - pos);
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);  // CRLF files
    switch (mode) {
      case Mode::Blank:
        if (is_blank(content)) {
          cut.close();
        } else {
          cut.add_line(pos, end);
        }
        break;
      case Mode::Line:
        cut.add_line(pos, end);
        cut.close();  // drops the line when it is blank
        break;
      case Mode::Equal:
        if (content == separator) {
          cut.close();
        } else {
          cut.add_line(pos, end);
        }
        break;
    }
    pos = end;
  }
  return cut.take();
}

}  // namespace mpitune
