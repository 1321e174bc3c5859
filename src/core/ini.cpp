#include "mpitune/core/ini.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "mpitune/core/error.hpp"
#include "mpitune/core/file_io.hpp"

namespace mpitune {

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

const IniEntry* IniSection::find(const std::string& key) const {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

// A comment is a line starting with '#' or ';', or the rest of a line from a '#' after white
// space. A ';' inside a value is text (search.initial_configs separates configurations with it).
static std::string strip_comment(const std::string& line) {
  const size_t first = line.find_first_not_of(" \t");
  if (first != std::string::npos && line[first] == ';') return "";
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) return line.substr(0, i);
  }
  return line;
}

static bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '_'))
      return false;
  return true;
}

// Keys may be qualified by a section, "lora.rank" in [space]: names joined by single dots.
static bool valid_key(const std::string& s) {
  size_t begin = 0;
  for (;;) {
    const size_t dot = s.find('.', begin);
    if (!valid_name(s.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin))) return false;
    if (dot == std::string::npos) return true;
    begin = dot + 1;
  }
}

IniFile IniFile::parse(const std::string& text, const std::string& origin) {
  IniFile ini;
  std::istringstream in(text);
  std::string raw;
  int lineno = 0;
  IniSection* current = nullptr;
  while (std::getline(in, raw)) {
    ++lineno;
    const std::string line = trim(strip_comment(raw));
    if (line.empty()) continue;
    const std::string where = origin + ":" + std::to_string(lineno);
    if (line.front() == '[') {
      if (line.back() != ']')
        throw ConfigError(where, "section header '" + line + "' has no closing ']'",
                          "write it as [name]");
      const std::string name = trim(line.substr(1, line.size() - 2));
      if (!valid_name(name))
        throw ConfigError(where, "section name '" + name + "' is not valid",
                          "use lower-case letters, digits and '_'");
      if (ini.section(name))
        throw ConfigError(where, "section [" + name + "] appears twice",
                          "merge the two into one section");
      ini.sections_.push_back(IniSection{name, {}, lineno});
      current = &ini.sections_.back();
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      throw ConfigError(where, "expected 'key = value', got '" + line + "'",
                        "add '=' between the key and its value");
    if (!current)
      throw ConfigError(where, "'" + line + "' is outside any section",
                        "put it under a [section] header");
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (!valid_key(key))
      throw ConfigError(where, "key '" + key + "' is not valid",
                        "use lower-case letters, digits and '_' (and '.' between names, as in lora.rank)");
    if (current->find(key))
      throw ConfigError(current->name + "." + key, "given twice in [" + current->name + "]",
                        "keep one of the two lines (" + origin + ":" +
                            std::to_string(current->find(key)->line) + " and line " +
                            std::to_string(lineno) + ")");
    current->entries.push_back(IniEntry{key, value, lineno});
  }
  return ini;
}

// A config path the user typed: a folder, a missing file or an unreadable one is their mistake
// (one line naming --config and the path), not an I/O failure of mpitune.
IniFile IniFile::load(const std::string& path) {
  if (is_directory(path))
    throw ConfigError("--config", "'" + path + "' is a directory", "give an INI file such as configs/asha.ini");
  std::string text;
  try {
    text = read_file_text(path);
  } catch (const FileError& e) {
    if (e.error_number() == ENOENT || e.error_number() == ENOTDIR)
      throw ConfigError("--config", "'" + path + "' does not exist", "check the path (configs/asha.ini is an example)");
    throw ConfigError("--config", "cannot read '" + path + "': " + std::strerror(e.error_number()),
                      "check the path and its permissions");
  }
  return parse(text, path);
}

void IniFile::set(const std::string& section, const std::string& key, const std::string& value) {
  IniSection* s = nullptr;
  for (auto& sec : sections_)
    if (sec.name == section) s = &sec;
  if (!s) {
    sections_.push_back(IniSection{section, {}, 0});
    s = &sections_.back();
  }
  for (auto& e : s->entries)
    if (e.key == key) {
      e.value = value;
      return;
    }
  s->entries.push_back(IniEntry{key, value, 0});
}

void IniFile::apply_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  const auto dot = assignment.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq)
    throw ConfigError("--set", "'" + assignment + "' is not of the form section.key=value",
                      "for example --set scheduler.max_t=81");
  const std::string section = trim(assignment.substr(0, dot));
  const std::string key = trim(assignment.substr(dot + 1, eq - dot - 1));
  if (!valid_name(section) || !valid_key(key))
    throw ConfigError("--set", "'" + assignment + "' names an invalid section or key",
                      "use lower-case letters, digits and '_'");
  set(section, key, trim(assignment.substr(eq + 1)));
}

std::optional<std::string> IniFile::get(const std::string& section, const std::string& key) const {
  const IniSection* s = this->section(section);
  if (!s) return std::nullopt;
  const IniEntry* e = s->find(key);
  if (!e) return std::nullopt;
  return e->value;
}

const IniSection* IniFile::section(const std::string& name) const {
  for (const auto& s : sections_)
    if (s.name == name) return &s;
  return nullptr;
}

std::string IniFile::to_text() const {
  std::string out;
  for (const auto& s : sections_) {
    if (!out.empty()) out += "\n";
    out += "[" + s.name + "]\n";
    for (const auto& e : s.entries) out += e.key + " = " + e.value + "\n";
  }
  return out;
}

}  // namespace mpitune
