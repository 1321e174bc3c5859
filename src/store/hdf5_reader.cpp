// Reads a result file back into ExperimentData, also while its writer is still appending.
//
// The file is opened as an SWMR reader, which also works after the writer closed it or
// crashed. Problems a user can cause (wrong path, not a result file, a file from a newer
// mpitune) are ConfigErrors naming the file; HDF5 failures on a valid file are InfraErrors.
#include <cmath>
#include <filesystem>
#include <utility>

#include "h5_support.hpp"
#include "h5_table.hpp"
#include "hdf5_schema.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace mpitune {
namespace {

using h5::H5Handle;
using h5::Row;

constexpr const char* kFix = "give the path of a result file written by `mpitune run`";

H5Handle open_for_reading(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) throw ConfigError(path, "no such file", kFix);
  if (std::filesystem::is_directory(st)) throw ConfigError(path, "is a directory", kFix);
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw ConfigError(path, "is not an HDF5 file", kFix);
  if (is_hdf5 < 0) throw ConfigError(path, "cannot be read: " + h5::innermost_error(), kFix);

  H5Handle fapl = h5::own_plist(H5_CHECK(H5Pcreate(H5P_FILE_ACCESS)));
#if H5_VERSION_GE(1, 10, 7)
  H5_CHECK(H5Pset_file_locking(fapl.id(), true, true));
#endif
  // SWMR read sees a file that is still being written (or whose writer died) consistently.
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl.id());
  if (id < 0) {
    const std::string swmr_error = h5::innermost_error();
    // Files in an older format cannot be opened as SWMR readers; they are not ours anyway,
    // but a plain open gives the better message below.
    id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id());
    if (id < 0)
      throw ConfigError(path, "cannot be opened: " + swmr_error,
                        "check that no other program writes it without SWMR, or " + std::string(kFix));
  }
  return h5::own_file(id);
}

void read_root_attributes(hid_t f, const std::string& path, ExperimentInfo& info) {
  if (!h5::has_attr(f, "schema_version") || !h5::has_attr(f, "mpitune_version"))
    throw ConfigError(path, "is not an mpitune result file (no schema_version attribute)", kFix);
  info.schema_version = static_cast<int>(h5::read_attr_int(f, "schema_version"));
  if (info.schema_version > kSchemaVersion)
    throw ConfigError(path,
                      "has schema version " + std::to_string(info.schema_version) +
                          ", newer than this mpitune reads (" + std::to_string(kSchemaVersion) + ")",
                      "read it with the mpitune version that wrote it (" +
                          h5::read_attr_string(f, "mpitune_version") + ") or newer");
  if (info.schema_version < 1)
    throw ConfigError(path, "has an invalid schema version " + std::to_string(info.schema_version), kFix);
  info.mpitune_version = h5::read_attr_string(f, "mpitune_version");
  info.name = h5::read_attr_string(f, "name");
  info.command_line = h5::read_attr_string(f, "command_line");
  info.config_text = h5::read_attr_string(f, "config_text");
  info.seed = h5::read_attr_uint64(f, "seed");
  info.metric = h5::read_attr_string(f, "metric");
  info.mode = h5::read_attr_string(f, "mode");
  info.scheduler = h5::read_attr_string(f, "scheduler");
  info.searcher = h5::read_attr_string(f, "searcher");
  info.trainable = h5::read_attr_string(f, "trainable");
  info.world_size = static_cast<int>(h5::read_attr_int(f, "world_size"));
  info.group_size = static_cast<int>(h5::read_attr_int(f, "group_size"));
  info.num_groups = static_cast<int>(h5::read_attr_int(f, "num_groups"));
  info.device_kind = h5::read_attr_string(f, "device_kind");
  info.start_time = h5::read_attr_float64(f, "start_time");
  if (info.schema_version >= 2) {
    info.model_init = h5::read_attr_string(f, "model_init");
    info.model_path = h5::read_attr_string(f, "model_path");
    info.architecture = h5::read_attr_string(f, "architecture");
    info.tokenizer = h5::read_attr_string(f, "tokenizer");
    info.params_total = h5::read_attr_int(f, "params_total");
    info.params_trainable = h5::read_attr_int(f, "params_trainable");
    info.keep_dir = h5::read_attr_string(f, "keep_dir");
  }
}

// Reads every row of `table` and decodes it with `columns`.
template <class Columns>
auto read_table(hid_t f, const char* table, const Columns& columns) {
  hsize_t n = 0;
  const std::vector<char> bytes = h5::read_rows(f, table, columns.type, &n);
  std::vector<decltype(columns.decode(std::declval<Row>()))> out;
  out.reserve(n);
  for (hsize_t i = 0; i < n; ++i)
    out.push_back(columns.decode(Row(columns.type, bytes.data() + i * columns.type.row_bytes())));
  return out;
}

Space read_space(hid_t f, const std::string& path) {
  const h5::MemberInfo spec = h5::member_info(f, h5::kSpaceTable, "spec");
  if (spec.type_class != H5T_STRING) throw ConfigError(path, "/space has no spec column", kFix);
  // One byte more than the file's width, so a full-width string keeps its NUL in memory.
  const h5::SpaceColumns columns(spec.bytes + 1);
  try {
    return Space(read_table(f, h5::kSpaceTable, columns));
  } catch (const ConfigError& e) {
    throw ConfigError(path, std::string("/space does not parse: ") + e.what(), kFix);
  }
}

std::vector<TrialRecord> read_trials(hid_t f, const std::string& path, const Space& space) {
  std::vector<size_t> widths;
  for (const auto& d : space.domains()) {
    const h5::MemberInfo m = h5::member_info(f, h5::kTrialsTable, d.name);
    if (m.type_class == H5T_NO_CLASS)
      throw ConfigError(path, "/trials has no column for hyperparameter '" + d.name + "' of /space", kFix);
    widths.push_back(m.type_class == H5T_STRING ? m.bytes + 1 : 0);
  }
  return read_table(f, h5::kTrialsTable, h5::TrialColumns(space, widths));
}

ExperimentData read_file(hid_t f, const std::string& path) {
  ExperimentData data;
  read_root_attributes(f, path, data.info);
  for (const char* t : {h5::kSpaceTable, h5::kTrialsTable, h5::kMetricsTable, h5::kDecisionsTable,
                        h5::kTransfersTable, h5::kGroupsTable, h5::kSummaryTable})
    if (!h5::has_dataset(f, t))
      throw ConfigError(path, std::string("has no dataset ") + t + ": not a complete mpitune result file", kFix);
  data.info.space = read_space(f, path);
  data.trials = read_trials(f, path, data.info.space);
  data.metrics = read_table(f, h5::kMetricsTable, h5::MetricColumns());
  data.decisions = read_table(f, h5::kDecisionsTable, h5::DecisionColumns());
  data.transfers = read_table(f, h5::kTransfersTable, h5::TransferColumns());
  data.groups = read_table(f, h5::kGroupsTable, h5::GroupColumns());
  const auto summary = read_table(f, h5::kSummaryTable, h5::SummaryColumns());
  if (!summary.empty()) data.summary = summary.front();
  return data;
}

}  // namespace

ExperimentData read_hdf5_experiment(const std::string& path) {
  h5::h5_init();
  try {
    H5Handle file = open_for_reading(path);
    ExperimentData data = read_file(file.id(), path);
    file.close();
    return data;
  } catch (const InfraError& e) {
    throw InfraError("reading result file '" + path + "': " + e.what());
  }
}

}  // namespace mpitune
