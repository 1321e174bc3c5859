// UTF-8-safe truncation for the fixed-length string columns of the result file.
#include <string>

#include "mpitune/store/hdf5_store.hpp"

namespace mpitune {

std::string truncate_utf8(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the lead byte of the character that would be
  // split, and cut before it. A cut right after a complete character has s[cut] as a lead byte.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

}  // namespace mpitune
