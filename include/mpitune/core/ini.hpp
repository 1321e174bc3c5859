// The INI file of an experiment: sections of `key = value` lines, in file order.
//
// Syntax: `[section]` headers, `key = value` lines, comments starting with `#` or `;` (at the
// start of a line, or after white space inside a line). Keys are lower case; a key given twice
// in one section is an error (the second would silently win otherwise).
// `--set section.key=value` on the command line goes through apply_override(), so overrides and
// the file share one code path; to_text() gives the final text that workers parse and the HDF5
// file stores.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mpitune {

struct IniEntry {
  std::string key;
  std::string value;
  int line = 0;  // 0 when it came from an override
};

struct IniSection {
  std::string name;
  std::vector<IniEntry> entries;
  int line = 0;

  const IniEntry* find(const std::string& key) const;
};

class IniFile {
 public:
  // Throws ConfigError("<origin>:<line>", ...) on a syntax error.
  static IniFile parse(const std::string& text, const std::string& origin = "config");
  // Throws ConfigError("--config", ...) when the file cannot be read.
  static IniFile load(const std::string& path);

  // Adds or replaces one value.
  void set(const std::string& section, const std::string& key, const std::string& value);
  // "section.key=value"; throws ConfigError("--set", ...) when malformed.
  void apply_override(const std::string& assignment);

  std::optional<std::string> get(const std::string& section, const std::string& key) const;
  const IniSection* section(const std::string& name) const;
  const std::vector<IniSection>& sections() const { return sections_; }

  std::string to_text() const;

 private:
  std::vector<IniSection> sections_;
};

// Trims ASCII white space at both ends.
std::string trim(const std::string& s);

}  // namespace mpitune
