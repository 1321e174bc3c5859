// Sharded checkpoint files and the manifest (see checkpoint.hpp).
#include "mpitune/train/checkpoint.hpp"

#include <sstream>

#include "mpitune/comm/collectives.hpp"
#include "mpitune/core/error.hpp"
#include "mpitune/train/state_io.hpp"

namespace mpitune {
namespace {

constexpr const char* kMagic = "mpitune-checkpoint 1";

int rank_of(Collectives* g) { return g ? g->rank() : 0; }
int size_of(Collectives* g) { return g ? g->size() : 1; }

}  // namespace

std::string rank_file_name(int rank) { return "rank-" + std::to_string(rank) + ".bin"; }
std::string manifest_path(const std::string& dir) { return dir + "/manifest"; }

std::string CheckpointManifest::to_text() const {
  std::ostringstream o;
  o << kMagic << "\n";
  o << "group_size = " << group_size << "\n";
  o << "trial = " << trial << "\n";
  o << "step = " << step << "\n";
  o << "precision = " << precision << "\n";
  o << "shape = " << shape << "\n";
  for (const auto& u : units) o << "unit = " << u.first << " " << u.second << "\n";
  for (const auto& f : files) o << "file = " << f.name << " " << f.bytes << " " << hex64(f.checksum) << "\n";
  return o.str();
}

CheckpointManifest CheckpointManifest::parse(const std::string& text, const std::string& where) {
  auto bad = [&](const std::string& why) -> InfraError {
    return InfraError("checkpoint manifest " + where + ": " + why);
  };
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kMagic) throw bad("not an mpitune checkpoint manifest");
  CheckpointManifest m;
  bool have_size = false, have_step = false;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) throw bad("malformed line '" + line + "'");
    const std::string key = line.substr(0, eq), value = line.substr(eq + 3);
    std::istringstream v(value);
    if (key == "group_size") {
      have_size = static_cast<bool>(v >> m.group_size);
    } else if (key == "trial") {
      v >> m.trial;
    } else if (key == "step") {
      have_step = static_cast<bool>(v >> m.step);
    } else if (key == "precision") {
      m.precision = value;
    } else if (key == "shape") {
      m.shape = value;
    } else if (key == "unit") {
      std::pair<std::string, int64_t> u;
      if (!(v >> u.first >> u.second)) throw bad("malformed unit '" + value + "'");
      m.units.push_back(u);
    } else if (key == "file") {
      File f;
      std::string hex;
      if (!(v >> f.name >> f.bytes >> hex) || hex.size() != 16) throw bad("malformed file '" + value + "'");
      f.checksum = std::stoull(hex, nullptr, 16);
      m.files.push_back(f);
    } else {
      throw bad("unknown key '" + key + "'");
    }
  }
  if (!have_size || !have_step || m.group_size < 1) throw bad("group_size or step missing");
  if (static_cast<int>(m.files.size()) != m.group_size)
    throw bad(std::to_string(m.files.size()) + " rank files listed for a group of " + std::to_string(m.group_size));
  return m;
}

void agree_on_failure(Collectives* group, std::exception_ptr error, const std::string& what) {
  int32_t failed = error ? 1 : 0;
  if (group && group->size() > 1) group->all_reduce(&failed, 1, DType::I32, ReduceOp::Max);
  if (error) std::rethrow_exception(error);
  if (failed) throw InfraError(what + ": another rank of the group failed");
}

void save_sharded_checkpoint(const std::string& dir, const std::vector<uint8_t>& state,
                             CheckpointManifest manifest, Collectives* group) {
  const int rank = rank_of(group), size = size_of(group);
  const std::string what = "saving checkpoint " + dir;
  // 1. The folder exists and no manifest of an earlier save claims the files about to change.
  std::exception_ptr err;
  try {
    if (rank == 0) {
      make_dirs(dir);
      remove_file(manifest_path(dir));
    }
  } catch (...) {
    err = std::current_exception();
  }
  agree_on_failure(group, err, what);
  // 2. Every rank writes its file.
  const uint64_t checksum = checksum64(state.data(), state.size());
  try {
    write_file_atomic(dir + "/" + rank_file_name(rank), state.data(), state.size());
  } catch (...) {
    err = std::current_exception();
  }
  agree_on_failure(group, err, what);
  // 3. Rank 0 learns every file's size and checksum, and writes the manifest last.
  int64_t mine[2] = {static_cast<int64_t>(state.size()), static_cast<int64_t>(checksum)};
  std::vector<int64_t> all(2 * static_cast<size_t>(size));
  if (group) group->all_gather(mine, all.data(), 2, DType::I64);
  else all.assign(mine, mine + 2);
  manifest.group_size = size;
  manifest.files.clear();
  for (int r = 0; r < size; ++r)
    manifest.files.push_back({rank_file_name(r), all[2 * r], static_cast<uint64_t>(all[2 * r + 1])});
  try {
    if (rank == 0) {
      const std::string text = manifest.to_text();
      write_file_atomic(manifest_path(dir), text.data(), text.size());
    }
  } catch (...) {
    err = std::current_exception();
  }
  agree_on_failure(group, err, what);
}

LoadedCheckpoint load_sharded_checkpoint(const std::string& dir, Collectives* group) {
  const int rank = rank_of(group), size = size_of(group);
  LoadedCheckpoint out;
  std::exception_ptr err;
  try {
    const std::string mpath = manifest_path(dir);
    if (!file_exists(mpath))
      throw InfraError("checkpoint " + dir + " has no manifest: it does not exist or its save did not finish");
    const std::vector<uint8_t> text = read_file_bytes(mpath);
    out.manifest = CheckpointManifest::parse(std::string(text.begin(), text.end()), mpath);
    if (out.manifest.group_size != size)
      throw ConfigError("experiment.group_size",
                        "checkpoint " + dir + " was written by a group of " + std::to_string(out.manifest.group_size) +
                            " ranks and cannot be loaded by a group of " + std::to_string(size) +
                            " (each rank holds one slice of every unit)",
                        "resume it with group_size = " + std::to_string(out.manifest.group_size));
    const CheckpointManifest::File& f = out.manifest.files[static_cast<size_t>(rank)];
    const std::string path = dir + "/" + f.name;
    out.state = read_file_bytes(path);
    if (static_cast<int64_t>(out.state.size()) != f.bytes)
      throw InfraError("checkpoint file " + path + " holds " + std::to_string(out.state.size()) +
                       " bytes, the manifest says " + std::to_string(f.bytes));
    if (checksum64(out.state.data(), out.state.size()) != f.checksum)
      throw InfraError("checkpoint file " + path + " is corrupt (checksum mismatch)");
  } catch (...) {
    err = std::current_exception();
  }
  agree_on_failure(group, err, "loading checkpoint " + dir);
  return out;
}

}  // namespace mpitune
