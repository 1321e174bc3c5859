// Sharded checkpoints: a folder holding one state file per rank of the group (rank-<r>.bin, the
// rank's state bytes as the trainable exported them) and a text manifest written last by rank 0.
//
// The manifest names the group size, the trial, the step, the precision, the model shape, every
// unit's parameter count and, per rank file, its size and checksum. Every file is written
// atomically (temp file, fsync, rename) and the manifest of an earlier save into the same folder
// is removed before any rank file is replaced, so a folder whose manifest exists and whose files
// match it is a complete checkpoint; a crash mid-save leaves no manifest (or the old files). A
// checkpoint loads only into a group of the same size (each rank owns one slice of every unit).
// No torch here: the state bytes come from the trainable (gpt_trainable.cpp).
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace mpitune {

class Collectives;

struct CheckpointManifest {
  int group_size = 1;
  int64_t trial = 0;
  int64_t step = 0;
  std::string precision;
  std::string shape;  // "n_layer 2 n_head 4 d_model 64 seq_len 64 vocab 256"
  std::vector<std::pair<std::string, int64_t>> units;  // name, parameters
  struct File {
    std::string name;  // "rank-0.bin"
    int64_t bytes = 0;
    uint64_t checksum = 0;
  };
  std::vector<File> files;  // one per rank, in rank order

  std::string to_text() const;
  // Throws InfraError naming `where` on a malformed manifest.
  static CheckpointManifest parse(const std::string& text, const std::string& where);
};

std::string rank_file_name(int rank);
std::string manifest_path(const std::string& dir);

// Collective over `group` (null: one rank). Writes this rank's `state` and, on rank 0, the
// manifest (`manifest` without files; they are filled in here). Every rank returns only when the
// whole checkpoint is complete, or throws on every rank when any rank failed.
void save_sharded_checkpoint(const std::string& dir, const std::vector<uint8_t>& state,
                             CheckpointManifest manifest, Collectives* group);

struct LoadedCheckpoint {
  CheckpointManifest manifest;
  std::vector<uint8_t> state;  // this rank's bytes, checksum verified
};
// Collective: reads the manifest and this rank's file. A missing or malformed manifest, a
// missing, short or corrupt file are InfraError; a checkpoint of another group size is a
// ConfigError naming experiment.group_size. When any rank fails, every rank throws.
LoadedCheckpoint load_sharded_checkpoint(const std::string& dir, Collectives* group);

// Every rank learns whether any rank failed: rethrows this rank's own error, or throws
// InfraError("<what>: another rank of the group failed") on the ranks that did not fail.
void agree_on_failure(Collectives* group, std::exception_ptr error, const std::string& what);

}  // namespace mpitune
