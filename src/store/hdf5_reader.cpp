// Reads a result file back into ExperimentData, also while its writer is still appending.
//
// The file is opened as an SWMR reader, which also works after the writer closed it or
// crashed. Problems a user can cause (wrong path, not a result file, a file from a newer
// mpitune) are ConfigErrors naming the file; HDF5 failures on a valid file are InfraErrors.
//
// A damaged file (a bad disk, an interrupted copy, a full disk, a hand edit) must give one
// clear line, quickly, and never a hang or a crash:
//  - Bounded retries. An SWMR reader re-reads metadata whose checksum fails (the writer may be
//    half-way through writing it), sleeping 1 ns, 2 ns, 4 ns, ... between attempts; with
//    HDF5's default of 100 attempts one damaged metadata block is a sleep of 2^99 ns (10^13
//    years), so `mpitune report` hung. kMetadataReadAttempts keeps it near 30 ms.
//  - The global heaps, where the root attributes' strings live and which HDF5 does not
//    checksum, are checked before HDF5 reads them (global_heap_check.hpp).
//  - Every attribute and table is checked (shape, type class, width, row count) before it is
//    read (h5_support.hpp, h5_table.hpp): a mismatch is a ConfigError naming the file.
//  - Partial rows. A table's rows at its end that are entirely zero were never written (the
//    writer extended the table, then the disk filled or the process died before the data was
//    on disk: HDF5 returns its fill value, zero, for them); they are skipped, with one warning
//    line on stderr per table. So is the last row when it does not decode (a /trials status or
//    a /space spec that does not parse: a row the disk got only part of). Such a row anywhere
//    else is damage and refuses the file. No row mpitune writes is all zero (each has a time,
//    a status, an action or a name), so nothing real is ever skipped.
//  - /events spreads a long event over several rows: the reader joins them and checks that the
//    events' seq run 0, 1, 2, ... and that each event's parts come in order. An event whose
//    rows stop before its last part, or whose last row is damaged, at the end of the table is
//    skipped with the warning; anywhere else it refuses the file.
//
// The resumed writer (hdf5_writer.cpp) reads the file through read_experiment_layout() below
// and keeps exactly the rows this reader kept, so nothing it skipped stays between old and
// new rows.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <utility>

#include "global_heap_check.hpp"
#include "h5_support.hpp"
#include "hdf5_read.hpp"
#include "h5_table.hpp"
#include "hdf5_schema.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace mpitune {
namespace {

using h5::H5Handle;
using h5::Row;

constexpr const char* kFix = "give the path of a result file written by `mpitune run`";
constexpr const char* kDamagedFix = "the file is damaged or was not written by mpitune; read a copy or a backup";

// SWMR metadata read attempts: 26 attempts sleep 2^25 ns ~ 34 ms in all between them, ample
// for a torn read of a block the writer is writing (microseconds), short for a damaged one.
constexpr unsigned kMetadataReadAttempts = 26;

H5Handle open_for_reading(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) throw ConfigError(path, "no such file", kFix);
  if (std::filesystem::is_directory(st)) throw ConfigError(path, "is a directory", kFix);
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 == 0) throw ConfigError(path, "is not an HDF5 file", kFix);
  if (is_hdf5 < 0) throw ConfigError(path, "cannot be read: " + h5::innermost_error(), kFix);
  // Before HDF5 parses the one kind of metadata it does not checksum (global_heap_check.hpp).
  h5::check_global_heaps(path);

  H5Handle fapl = h5::own_plist(H5_CHECK(H5Pcreate(H5P_FILE_ACCESS)));
#if H5_VERSION_GE(1, 10, 7)
  H5_CHECK(H5Pset_file_locking(fapl.id(), true, true));
#endif
  // Used by SWMR opens only; a plain open reads each block once.
  H5_CHECK(H5Pset_metadata_read_attempts(fapl.id(), kMetadataReadAttempts));
  // SWMR read sees a file that is still being written (or whose writer died) consistently.
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl.id());
  if (id < 0) {
    const std::string swmr_error = h5::innermost_error();
    // Files in an older format cannot be opened as SWMR readers; they are not ours anyway,
    // but a plain open gives the better message below.
    id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id());
    if (id < 0) {
      // A lock held by a writer that is not SWMR, or (far more often) a damaged or cut file.
      const bool locked = swmr_error.find("unable to lock file") != std::string::npos;  // H5FD's own words
      throw ConfigError(path, "cannot be opened: " + swmr_error,
                        locked ? "check that no other program writes it without SWMR" : kDamagedFix);
    }
  }
  return h5::own_file(id);
}

void read_root_attributes(hid_t f, const std::string& path, ExperimentInfo& info) {
  if (!h5::has_attr(f, "schema_version") || !h5::has_attr(f, "mpitune_version"))
    throw ConfigError(path, "is not an mpitune result file (no schema_version attribute)", kFix);
  const int64_t version = h5::read_attr_int(f, "schema_version");
  if (version > kSchemaVersion)
    throw ConfigError(path,
                      "has schema version " + std::to_string(version) + ", newer than this mpitune reads (" +
                          std::to_string(kSchemaVersion) + ")",
                      "read it with the mpitune version that wrote it (" +
                          h5::read_attr_string(f, "mpitune_version") + ") or newer");
  if (version < 1) throw ConfigError(path, "has an invalid schema version " + std::to_string(version), kFix);
  info.schema_version = static_cast<int>(version);
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
  info.world_size = h5::read_attr_int32(f, "world_size");
  info.group_size = h5::read_attr_int32(f, "group_size");
  info.num_groups = h5::read_attr_int32(f, "num_groups");
  info.device_kind = h5::read_attr_string(f, "device_kind");
  info.start_time = h5::read_attr_float64(f, "start_time");
  // Schema 3; each read when present, so an older file (or one an older tool rewrote) reads.
  info.devices = h5::has_attr(f, "devices") ? h5::read_attr_int32(f, "devices") : std::max(0, info.world_size - 1);
  info.max_t = h5::has_attr(f, "max_t") ? h5::read_attr_int(f, "max_t") : 0;
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

// `s` with every control byte written as \xNN.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

void warn(const std::string& path, const std::string& table, const std::string& what) {
  std::fprintf(stderr, "mpitune: warning: %s: %s: %s\n", printable(path).c_str(), table.c_str(),
               printable(what).c_str());
}

// Reads every row of `table` and decodes it with `columns`, skipping partial rows at its end
// (see the header comment). Optional columns the file lacks read as their absent values.
std::string rows_text(hsize_t n) { return n == 1 ? "row" : std::to_string(n) + " rows"; }

// The warning for `n` all-zero rows at a table's end.
std::string unwritten_rows_text(hsize_t n) {
  return "skipped the last " + rows_text(n) + ", all zero: the table was extended for " + (n == 1 ? "it" : "them") +
         " but the data never reached the disk (a full disk or a crash)";
}

// The rows kept of each table are added to `layout` when given.
template <class Columns>
auto read_table(hid_t f, const std::string& path, const char* table, const Columns& columns,
                h5::FileLayout* layout) {
  hsize_t n = 0;
  std::vector<size_t> absent;
  const std::vector<char> bytes = h5::read_rows(f, table, columns.type, &n, &absent);
  const auto row = [&](hsize_t i) { return Row(columns.type, bytes.data() + i * columns.type.row_bytes()); };
  hsize_t complete = n;
  while (complete > 0 && row(complete - 1).all_zero()) --complete;
  if (complete < n) warn(path, table, unwritten_rows_text(n - complete));

  std::vector<decltype(columns.decode(std::declval<Row>()))> out;
  out.reserve(complete);
  for (hsize_t i = 0; i < complete; ++i) {
    try {
      Row r = row(i);
      for (const size_t c : absent) r.set_absent(c);
      out.push_back(columns.decode(r));
    } catch (const std::runtime_error& e) {  // ConfigError or InfraError from a value's parser
      if (i + 1 < complete || complete < n)
        throw h5::BadFileError(std::string("table ") + table + ": row " + std::to_string(i) +
                               " does not parse: " + e.what());
      warn(path, table,
           std::string("skipped the last row, which does not parse (") + e.what() +
               "): the disk got only part of it");
    }
  }
  if (layout) layout->kept_rows[table] = out.size();  // one row per record, the skipped ones at the end
  return out;
}

// /events: rows joined into events (see the header comment). The last event is skipped when
// its rows run out before its last part or its last row does not decode; any other break in
// the parts or the seq refuses the file.
std::vector<EventRecord> read_events(hid_t f, const std::string& path, h5::FileLayout* layout) {
  const h5::MemberInfo data = h5::member_info(f, h5::kEventsTable, "data");
  if (data.type_class != H5T_ARRAY) throw h5::BadFileError("table /events has no byte column 'data'");
  const h5::EventColumns columns(data.bytes);  // read_rows checks that these are 8-bit bytes
  hsize_t n = 0;
  std::vector<size_t> absent;
  const std::vector<char> bytes = h5::read_rows(f, h5::kEventsTable, columns.type, &n, &absent);
  const auto row = [&](hsize_t i) { return Row(columns.type, bytes.data() + i * columns.type.row_bytes()); };
  hsize_t complete = n;
  while (complete > 0 && row(complete - 1).all_zero()) --complete;

  std::vector<EventRecord> out;
  hsize_t kept = 0;  // rows of the events in `out`
  EventRecord current;
  int32_t parts = 0, next_part = 0;
  std::string problem;  // why the rows from `kept` on do not make an event
  hsize_t problem_row = 0;
  for (hsize_t i = 0; i < complete && problem.empty(); ++i) {
    h5::EventPart p;
    try {
      p = columns.decode(row(i));
    } catch (const h5::BadFileError& e) {
      problem = e.what();
      problem_row = i;
      break;
    }
    if (next_part == 0) {
      const int64_t expected = out.empty() ? 0 : out.back().seq + 1;
      if (p.part != 0)
        problem = "part " + std::to_string(p.part) + " of event " + std::to_string(p.seq) + " without its part 0";
      else if (p.seq != expected)
        problem = "event " + std::to_string(p.seq) + " where event " + std::to_string(expected) + " was due";
      if (!problem.empty()) {
        problem_row = i;
        break;
      }
      current = EventRecord{p.seq, p.time, p.vtime, p.group, p.kind, {}};
      parts = p.parts;
    } else if (p.seq != current.seq || p.part != next_part || p.parts != parts) {
      problem = "part " + std::to_string(p.part) + " of " + std::to_string(p.parts) + " of event " +
                std::to_string(p.seq) + " where part " + std::to_string(next_part) + " of " + std::to_string(parts) +
                " of event " + std::to_string(current.seq) + " was due";
      problem_row = i;
      break;
    }
    current.data.insert(current.data.end(), p.data.begin(), p.data.end());
    if (++next_part == parts) {
      out.push_back(std::move(current));
      current = EventRecord{};
      next_part = 0;
      kept = i + 1;
    }
  }
  // A break before the last written row is damage: events after it would be lost.
  if (!problem.empty() && problem_row + 1 < complete)
    throw h5::BadFileError("table /events: row " + std::to_string(problem_row) + ": " + problem);
  if (kept == complete && complete < n) {
    warn(path, h5::kEventsTable, unwritten_rows_text(n - complete));
  } else if (kept < complete) {
    std::string what = "skipped the last " + rows_text(n - kept) + ", " +
                       (problem.empty() ? "the first " + std::to_string(next_part) + " of the " +
                                              std::to_string(parts) + " parts of event " + std::to_string(current.seq)
                                        : "a damaged last event (" + problem + ")");
    if (complete < n) what += " and " + rows_text(n - complete) + " all zero";
    warn(path, h5::kEventsTable,
         what + ": the writer stopped before the rest of it reached the disk (a full disk or a crash)");
  }
  if (layout) {
    layout->kept_rows[h5::kEventsTable] = kept;
    layout->event_data_bytes = data.bytes;
  }
  return out;
}

Space read_space(hid_t f, const std::string& path, h5::FileLayout* layout) {
  const h5::MemberInfo spec = h5::member_info(f, h5::kSpaceTable, "spec");
  if (spec.type_class != H5T_STRING) throw ConfigError(path, "/space has no spec column", kFix);
  // One byte more than the file's width, so a full-width string keeps its NUL in memory.
  const h5::SpaceColumns columns(spec.bytes + 1);
  std::vector<Domain> domains = read_table(f, path, h5::kSpaceTable, columns, layout);
  try {
    return Space(std::move(domains));
  } catch (const ConfigError& e) {
    throw ConfigError(path, std::string("/space does not parse: ") + e.what(), kFix);
  }
}

// How the file stores hyperparameter `column` of `table`: its kind (the file's own: integers
// are float64 in files of schema < 3) and string width, or nullopt when it has no such column.
std::optional<h5::HParamColumnSpec> stored_hparam_column(hid_t f, const char* table, const std::string& column) {
  const h5::MemberInfo m = h5::member_info(f, table, column);
  h5::HParamColumnSpec spec;
  switch (m.type_class) {
    case H5T_NO_CLASS: return std::nullopt;
    // One byte more than the file's width, so a full-width string keeps its NUL in memory.
    case H5T_STRING: spec.kind = h5::ColumnKind::String; spec.bytes = m.bytes + 1; break;
    case H5T_INTEGER: spec.kind = h5::ColumnKind::Int64; break;
    default: spec.kind = h5::ColumnKind::Float64; break;  // read_rows refuses what is not a float
  }
  return spec;
}

std::vector<TrialRecord> read_trials(hid_t f, const std::string& path, const Space& space,
                                     h5::FileLayout* layout) {
  std::vector<h5::HParamColumnSpec> specs;
  for (const auto& d : space.domains()) {
    const auto spec = stored_hparam_column(f, h5::kTrialsTable, d.name);
    if (!spec) throw ConfigError(path, "/trials has no column for hyperparameter '" + d.name + "' of /space", kFix);
    specs.push_back(*spec);
  }
  return read_table(f, path, h5::kTrialsTable, h5::TrialColumns(space, specs), layout);
}

// /pbt_transfers' old.<name> and new.<name> are schema 3: a file without them reads with
// old_values and new_values empty.
std::vector<TransferRecord> read_transfers(hid_t f, const std::string& path, const Space& space,
                                           h5::FileLayout* layout) {
  std::vector<std::optional<h5::HParamColumnSpec>> old_specs, new_specs;
  for (const auto& d : space.domains()) {
    old_specs.push_back(stored_hparam_column(f, h5::kTransfersTable, "old." + d.name));
    new_specs.push_back(stored_hparam_column(f, h5::kTransfersTable, "new." + d.name));
  }
  return read_table(f, path, h5::kTransfersTable, h5::TransferColumns(space, old_specs, new_specs), layout);
}

ExperimentData read_file(hid_t f, const std::string& path, h5::FileLayout* layout) {
  ExperimentData data;
  read_root_attributes(f, path, data.info);
  for (const char* t : {h5::kSpaceTable, h5::kTrialsTable, h5::kMetricsTable, h5::kDecisionsTable,
                        h5::kTransfersTable, h5::kGroupsTable, h5::kSummaryTable})
    if (!h5::has_dataset(f, t))
      throw ConfigError(path, std::string("has no dataset ") + t + ": not a complete mpitune result file", kFix);
  data.info.space = read_space(f, path, layout);
  data.trials = read_trials(f, path, data.info.space, layout);
  data.metrics = read_table(f, path, h5::kMetricsTable, h5::MetricColumns(), layout);
  data.decisions = read_table(f, path, h5::kDecisionsTable, h5::DecisionColumns(), layout);
  data.transfers = read_transfers(f, path, data.info.space, layout);
  data.groups = read_table(f, path, h5::kGroupsTable, h5::GroupColumns(), layout);
  const auto summary = read_table(f, path, h5::kSummaryTable, h5::SummaryColumns(), layout);
  if (!summary.empty()) data.summary = summary.front();
  // Schema 3; files of older versions have no test-split evaluation.
  if (h5::has_dataset(f, h5::kFinalTable))
    data.finals = read_table(f, path, h5::kFinalTable, h5::FinalColumns(), layout);
  if (h5::has_dataset(f, h5::kFinalDocumentsTable))
    data.final_documents = read_table(f, path, h5::kFinalDocumentsTable, h5::FinalDocumentColumns(), layout);
  // Schema 4; files of older versions were never resumed.
  if (h5::has_dataset(f, h5::kEventsTable)) data.events = read_events(f, path, layout);
  if (h5::has_dataset(f, h5::kSegmentsTable))
    data.segments = read_table(f, path, h5::kSegmentsTable, h5::SegmentColumns(), layout);
  return data;
}

}  // namespace

namespace h5 {

ExperimentData read_experiment_layout(const std::string& path, FileLayout* layout) {
  h5_init();
  // Messages quote text from the file (names, statuses, HDF5's object names), which damage
  // can fill with control characters; the one line a user sees stays one line.
  try {
    H5Handle file = open_for_reading(path);
    ExperimentData data = read_file(file.id(), path, layout);
    file.close();
    data.path = path;
    return data;
  } catch (const h5::BadFileError& e) {
    throw ConfigError(path, printable(e.what()), kDamagedFix);
  } catch (const ConfigError& e) {
    const std::string prefix = path + ": ";
    const std::string text = e.what();
    if (e.field() != path || text.compare(0, prefix.size(), prefix) != 0 || printable(text) == text) throw;
    throw ConfigError(path, printable(text.substr(prefix.size())));
  } catch (const InfraError& e) {
    throw InfraError("reading result file '" + path + "': " + printable(e.what()));
  }
}

}  // namespace h5

ExperimentData read_hdf5_experiment(const std::string& path) { return h5::read_experiment_layout(path, nullptr); }

}  // namespace mpitune
