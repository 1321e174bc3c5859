// `mpitune tokenize` (see tokenize_command.hpp).
#include "mpitune/runtime/tokenize_command.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "mpitune/core/error.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/tokenize/tokenizer.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

// A JSON string literal of `s` (valid UTF-8 passes through; control characters are escaped).
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError("--file", "cannot read '" + path + "'", "check the path");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw ConfigError("--file", "reading '" + path + "' failed");
  return ss.str();
}

int run(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description desc(
      "mpitune tokenize --tokenizer DIR|bytes (--text S | --file F) [--json]\n"
      "  Print the token ids of a text (no BOS/EOS added), as training would see them.\n\noptions");
  desc.add_options()("help,h", "this help")
      ("tokenizer,t", po::value<std::string>(), "bytes, or a folder with tokenizer.json, vocab.json + merges.txt or tokenizer.model")
      ("text", po::value<std::string>(), "the text to tokenize")
      ("file,f", po::value<std::string>(), "a file whose whole content is the text")
      ("json", "print {\"tokenizer\": ..., \"ids\": [...], \"count\": N}");
  const po::variables_map vm = parse_command_line(args, desc, nullptr, "tokenize");
  if (vm.count("help")) {
    out << desc << "\n";
    return 0;
  }
  if (!vm.count("tokenizer")) throw ConfigError("--tokenizer", "is required", "give bytes or a tokenizer folder");
  if (vm.count("text") == vm.count("file"))
    throw ConfigError("--text/--file", "give exactly one of them", "e.g. --text 'Hello world'");
  const std::string text = vm.count("text") ? vm["text"].as<std::string>() : read_text_file(vm["file"].as<std::string>());

  const auto tok = load_tokenizer(vm["tokenizer"].as<std::string>(), "");
  const std::vector<int32_t> ids = tok->encode(text);
  std::string list;
  for (size_t i = 0; i < ids.size(); ++i) list += (i ? (vm.count("json") ? ", " : " ") : "") + std::to_string(ids[i]);
  if (vm.count("json"))
    out << "{\"tokenizer\": " << json_string(tok->description()) << ", \"ids\": [" << list << "], \"count\": "
        << ids.size() << "}\n";
  else
    out << list << "\n";
  return 0;
}

}  // namespace

int tokenize_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    return run(args, out);
  } catch (const std::exception& e) {
    // Every failure here is about the user's input (a folder, a file, a flag): one line, exit 2.
    err << "mpitune: error: " << e.what() << "\n";
    return 2;
  }
}

int tokenize_command(const std::vector<std::string>& args) { return tokenize_command(args, std::cout, std::cerr); }

}  // namespace mpitune
