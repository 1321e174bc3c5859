// Rendering of sections and tables for the HTML report (see sections.hpp).
#include "sections.hpp"

#include "svg.hpp"

namespace mpitune {
namespace html {

Section missing_section(const std::string& name, const std::string& title, const std::string& why) {
  Section s;
  s.name = name;
  s.title = title;
  s.html = missing_line(why);
  return s;
}

std::string missing_line(const std::string& why) { return "<p class=\"missing\">" + xml_escape(why) + "</p>\n"; }

std::string render_section(const Section& s) {
  std::string out = "<section class=\"part\" data-section=\"" + xml_escape(s.name) + "\">\n<h3>" +
                    xml_escape(s.title) + "</h3>\n" + s.html;
  for (const auto& f : s.figures)
    out += "<figure data-figure=\"" + xml_escape(f.name) + "\">" + f.svg + "\n<figcaption>" + xml_escape(f.caption) +
           "</figcaption></figure>\n";
  return out + "</section>\n";
}

std::string html_table(const std::string& cls, const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& numeric) {
  std::string out = "<table class=\"" + cls + "\"><thead><tr>";
  for (size_t i = 0; i < header.size(); ++i)
    out += std::string(i < numeric.size() && numeric[i] ? "<th class=\"num\">" : "<th>") + header[i] + "</th>";
  out += "</tr></thead><tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (size_t i = 0; i < row.size(); ++i)
      out += std::string(i < numeric.size() && numeric[i] ? "<td class=\"num\">" : "<td>") + row[i] + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::vector<size_t> even_sample(size_t n, size_t count) {
  std::vector<size_t> out;
  if (count == 0 || n == 0) return out;
  if (count >= n) {
    for (size_t i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  if (count == 1) return {0};
  for (size_t k = 0; k < count; ++k) {
    const size_t i = (k * (n - 1) + (count - 1) / 2) / (count - 1);
    if (out.empty() || out.back() != i) out.push_back(i);
  }
  return out;
}

}  // namespace html
}  // namespace mpitune
