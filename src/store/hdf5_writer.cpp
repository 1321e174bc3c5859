// The HDF5 ResultStore: creates the file and its tables, then appends and updates rows under SWMR.
//
// Why SWMR: users watch an experiment with h5py while it runs, and a crash must leave a file
// that opens. SWMR forbids creating objects once started, so begin() creates every dataset and
// attribute up front; afterwards only dataset extents and row contents change.
//
// No partial rows: a flush writes each table's rows before its new extent, and a table whose
// flush fails (a full disk) goes back to the rows already on disk before the error is
// reported, so a reader sees either the old rows or complete new ones (h5_table.cpp, above
// Table::append, says what HDF5 does and does not order by itself). The rows since the last
// good flush of that table are lost; the store says so with its InfraError.
//
// /events first: every row of the other tables that an event causes (a metric row, a
// decision, a trial's new status) is written after the event, and /events is flushed before
// the other tables, so a crash never leaves such a row in the file without its event; when
// /events cannot be flushed the other tables go back to their durable rows too. (A row
// rewritten in place, /trials or /summary, cannot be taken back; the replay rewrites it.)
//
// Resuming (open_hdf5_store_for_resume): the file is read whole with the reader's checks, its
// SWMR mark cleared (a killed writer leaves it set, and HDF5 then refuses every open for
// writing; h5clear -s does the same through the same file-access property), each table cut
// back to the rows the reader kept and opened for appending, and the file switched to SWMR
// mode again.
#include <chrono>
#include <filesystem>
#include <iterator>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "h5_support.hpp"
#include "h5_table.hpp"
#include "hdf5_read.hpp"
#include "hdf5_schema.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace mpitune {
namespace {

using h5::H5Handle;
using h5::Table;

class Hdf5Store final : public ResultStore {
 public:
  // Creates the file (create_hdf5_store).
  Hdf5Store(std::string path, bool overwrite, const Hdf5StoreOptions& options);
  // Opens an existing one, already begun (open_hdf5_store_for_resume).
  struct Resume {};
  Hdf5Store(Resume, std::string path, const Hdf5StoreOptions& options, ExperimentData* existing);
  ~Hdf5Store() override;

  void begin(const ExperimentInfo& info, const std::vector<GroupRecord>& groups) override;
  void upsert_trial(const TrialRecord& t) override;
  void append_metric(const MetricRecord& m) override;
  void append_decision(const DecisionRecord& d) override;
  void append_transfer(const TransferRecord& t) override;
  void set_summary(const SummaryRecord& s) override;
  void append_final(const FinalRecord& f, const std::vector<FinalDocumentRecord>& documents) override;
  void append_event(const EventRecord& e) override;
  void set_segment(const SegmentRecord& s) override;
  void flush() override;
  void close() override;

 private:
  // Runs `f`, prefixing HDF5 and state errors with the file's path so the one line a user
  // sees says which file failed.
  template <class F>
  void guarded(F&& f);
  void require_open(const char* call) const;
  // Flushes when `decision` (a scheduler decision or a trial status change, which a crash must
  // not lose) or when the last flush is older than the interval.
  void after_row_written(bool decision);
  void flush_now();
  void write_root_attributes(const ExperimentInfo& info);
  // The existing file opened for writing, its SWMR mark cleared (resume).
  void open_for_resume();
  // The tables of the file as read (`layout`), cut back to the rows kept, and the maps of
  // /trials and /segments rows (resume).
  void open_tables(const ExperimentData& data, const h5::FileLayout& layout);
  // In flush order: /events first (see the header comment).
  std::vector<Table*> tables() const;
  // Forgets the /trials and /segments rows a failed flush rolled back.
  void forget_rolled_back_rows();

  std::string path_;
  Hdf5StoreOptions options_;
  H5Handle file_;
  bool begun_ = false;
  bool closed_ = false;

  std::optional<h5::TrialColumns> trial_columns_;
  h5::MetricColumns metric_columns_;
  h5::DecisionColumns decision_columns_;
  std::optional<h5::TransferColumns> transfer_columns_;
  h5::GroupColumns group_columns_;
  h5::SummaryColumns summary_columns_;
  h5::FinalColumns final_columns_;
  h5::FinalDocumentColumns final_document_columns_;
  std::optional<h5::EventColumns> event_columns_;
  h5::SegmentColumns segment_columns_;

  std::unique_ptr<Table> space_, trials_, metrics_, decisions_, transfers_, groups_, summary_, finals_,
      final_documents_, events_, segments_;
  // trial id -> its row in /trials, and the status this job last wrote there (none: not yet,
  // or a failed flush may have lost it), to tell a status change from a report's progress
  struct TrialRow {
    hsize_t row;
    std::optional<TrialStatus> status;
  };
  std::unordered_map<TrialId, TrialRow> trial_rows_;
  std::unordered_map<int64_t, hsize_t> segment_rows_;  // segment index -> its row in /segments
  int64_t next_seq_ = 0;          // the seq append_event() takes next
  int64_t durable_next_seq_ = 0;  // ... as of the last successful flush of /events
  std::chrono::steady_clock::time_point last_flush_;
};

Hdf5Store::Hdf5Store(std::string path, bool overwrite, const Hdf5StoreOptions& options)
    : path_(std::move(path)), options_(options) {
  h5::h5_init();
  check_output_path(path_, overwrite);
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw InfraError("cannot create directory '" + parent.string() + "': " + ec.message());
  }
  guarded([&] {
    H5Handle fapl = h5::own_plist(H5_CHECK(H5Pcreate(H5P_FILE_ACCESS)));
    // SWMR needs the 1.10 file format.
    H5_CHECK(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST));
#if H5_VERSION_GE(1, 10, 7)
    // Lock where the filesystem supports it, carry on where it does not (NFS, some Lustre mounts).
    H5_CHECK(H5Pset_file_locking(fapl.id(), true, true));
#endif
    const unsigned flags = overwrite ? H5F_ACC_TRUNC : H5F_ACC_EXCL;
    file_ = h5::own_file(H5_CHECK(H5Fcreate(path_.c_str(), flags, H5P_DEFAULT, fapl.id())));
  });
  last_flush_ = std::chrono::steady_clock::now();
}

Hdf5Store::Hdf5Store(Resume, std::string path, const Hdf5StoreOptions& options, ExperimentData* existing)
    : path_(std::move(path)), options_(options) {
  h5::h5_init();
  // The reader's checks and errors (no such file, not a result file, damage) come first: the
  // file is opened for writing only once it is known to be ours.
  h5::FileLayout layout;
  ExperimentData data = h5::read_experiment_layout(path_, &layout);
  if (data.info.schema_version != kSchemaVersion)
    throw ConfigError(path_, "written by schema " + std::to_string(data.info.schema_version) +
                                 "; it cannot be resumed", "start a new experiment");
  for (const char* t : {h5::kFinalTable, h5::kFinalDocumentsTable, h5::kEventsTable, h5::kSegmentsTable})
    if (!layout.kept_rows.count(t))
      throw ConfigError(path_, std::string("has no dataset ") + t + ", which schema " +
                                   std::to_string(kSchemaVersion) + " files have; it cannot be resumed",
                        "start a new experiment");
  guarded([&] { open_for_resume(); });
  guarded([&] {
    open_tables(data, layout);
    // As begin() does, once every table is open: from here on readers may attach.
    H5_CHECK(H5Fstart_swmr_write(file_.id()));
  });
  begun_ = true;
  last_flush_ = std::chrono::steady_clock::now();
  flush();
  if (existing) *existing = std::move(data);
}

void Hdf5Store::open_for_resume() {
  H5Handle fapl = h5::own_plist(H5_CHECK(H5Pcreate(H5P_FILE_ACCESS)));
  H5_CHECK(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST));
#if H5_VERSION_GE(1, 10, 7)
  H5_CHECK(H5Pset_file_locking(fapl.id(), true, true));
#endif
  // A writer killed in SWMR mode leaves the superblock's status flags set, and HDF5 then
  // refuses to open the file for writing ("file is already open for write"). The file-access
  // property "clear_status_flags" (registered by HDF5 for h5clear, set through the generic
  // H5Pset) clears them as the file is opened. A live SWMR writer leaves the same flags; only
  // OutputLock tells the two apart (hdf5_store.hpp).
  hbool_t clear = true;
  H5_CHECK(H5Pset(fapl.id(), "clear_status_flags", &clear));
  const hid_t id = H5Fopen(path_.c_str(), H5F_ACC_RDWR, fapl.id());
  if (id < 0) {
    const std::string why = h5::innermost_error();
    if (why.find("unable to lock file") != std::string::npos)  // H5FD's own words
      throw ConfigError(path_, "is open in another program (HDF5 file lock: " + why + ")",
                        "close it (h5dump, h5py without swmr=True, or a writer) and resume again");
    throw ConfigError(path_, "cannot be opened for writing: " + why,
                      "check that the file and its folder are writable");
  }
  file_ = h5::own_file(id);
}

void Hdf5Store::open_tables(const ExperimentData& data, const h5::FileLayout& layout) {
  const hid_t f = file_.id();
  const Space& space = data.info.space;
  const auto open = [&](const char* name, const h5::RowType& type) {
    return std::make_unique<Table>(Table::open_existing(f, name, type, layout.kept_rows.at(name)));
  };
  trial_columns_.emplace(space, h5::hparam_columns_for(space));
  transfer_columns_.emplace(space);
  event_columns_.emplace(layout.event_data_bytes);
  events_ = open(h5::kEventsTable, event_columns_->type);
  space_ = open(h5::kSpaceTable, h5::SpaceColumns(h5::SpaceColumns::text_bytes_for(space)).type);
  trials_ = open(h5::kTrialsTable, trial_columns_->type);
  metrics_ = open(h5::kMetricsTable, metric_columns_.type);
  decisions_ = open(h5::kDecisionsTable, decision_columns_.type);
  transfers_ = open(h5::kTransfersTable, transfer_columns_->type);
  groups_ = open(h5::kGroupsTable, group_columns_.type);
  summary_ = open(h5::kSummaryTable, summary_columns_.type);
  finals_ = open(h5::kFinalTable, final_columns_.type);
  final_documents_ = open(h5::kFinalDocumentsTable, final_document_columns_.type);
  segments_ = open(h5::kSegmentsTable, segment_columns_.type);
  // A file killed before its first flush reached the disk may lack the summary row.
  if (summary_->rows() == 0) summary_->append(summary_columns_.encode(SummaryRecord{}));

  for (size_t i = 0; i < data.trials.size(); ++i)
    if (!trial_rows_.emplace(data.trials[i].id, TrialRow{i, std::nullopt}).second)
      throw ConfigError(path_, "/trials holds trial " + std::to_string(data.trials[i].id) + " twice",
                        "the file is damaged; it cannot be resumed");
  for (size_t i = 0; i < data.segments.size(); ++i)
    if (!segment_rows_.emplace(data.segments[i].index, i).second)
      throw ConfigError(path_, "/segments holds segment " + std::to_string(data.segments[i].index) + " twice",
                        "the file is damaged; it cannot be resumed");
  next_seq_ = durable_next_seq_ = data.events.empty() ? 0 : data.events.back().seq + 1;
}

Hdf5Store::~Hdf5Store() {
  try {
    close();
  } catch (...) {
    // A destructor must not throw; close() explicitly to see the error.
  }
}

template <class F>
void Hdf5Store::guarded(F&& f) {
  try {
    f();
  } catch (const InfraError& e) {
    throw InfraError("result file '" + path_ + "': " + e.what());
  }
}

void Hdf5Store::require_open(const char* call) const {
  if (closed_) throw InfraError(std::string(call) + " after close()");
  if (!begun_) throw InfraError(std::string(call) + " before begin()");
}

void Hdf5Store::write_root_attributes(const ExperimentInfo& info) {
  const hid_t root = file_.id();
  h5::write_attr_int32(root, "schema_version", info.schema_version);
  h5::write_attr_string(root, "mpitune_version", info.mpitune_version);
  h5::write_attr_string(root, "name", info.name);
  h5::write_attr_string(root, "command_line", info.command_line);
  h5::write_attr_string(root, "config_text", info.config_text);
  h5::write_attr_uint64(root, "seed", info.seed);
  h5::write_attr_string(root, "metric", info.metric);
  h5::write_attr_string(root, "mode", info.mode);
  h5::write_attr_string(root, "scheduler", info.scheduler);
  h5::write_attr_string(root, "searcher", info.searcher);
  h5::write_attr_string(root, "trainable", info.trainable);
  h5::write_attr_int32(root, "world_size", info.world_size);
  h5::write_attr_int32(root, "group_size", info.group_size);
  h5::write_attr_int32(root, "num_groups", info.num_groups);
  h5::write_attr_int32(root, "devices", info.devices);
  h5::write_attr_string(root, "device_kind", info.device_kind);
  h5::write_attr_int64(root, "max_t", info.max_t);
  h5::write_attr_float64(root, "start_time", info.start_time);
  h5::write_attr_string(root, "model_init", info.model_init);
  h5::write_attr_string(root, "model_path", info.model_path);
  h5::write_attr_string(root, "architecture", info.architecture);
  h5::write_attr_string(root, "tokenizer", info.tokenizer);
  h5::write_attr_int64(root, "params_total", info.params_total);
  h5::write_attr_int64(root, "params_trainable", info.params_trainable);
  h5::write_attr_string(root, "keep_dir", info.keep_dir);
}

void Hdf5Store::begin(const ExperimentInfo& info, const std::vector<GroupRecord>& groups) {
  if (closed_) throw InfraError("result file '" + path_ + "': begin() after close()");
  if (begun_)
    throw InfraError("result file '" + path_ + "': begin() called twice (a store opened for resume is begun already)");
  h5::TrialColumns::check_names(info.space);
  guarded([&] {
    write_root_attributes(info);
    const hid_t f = file_.id();
    const h5::SpaceColumns space_columns(h5::SpaceColumns::text_bytes_for(info.space));
    trial_columns_.emplace(info.space, h5::hparam_columns_for(info.space));
    transfer_columns_.emplace(info.space);
    space_ = std::make_unique<Table>(f, h5::kSpaceTable, space_columns.type);
    trials_ = std::make_unique<Table>(f, h5::kTrialsTable, trial_columns_->type);
    metrics_ = std::make_unique<Table>(f, h5::kMetricsTable, metric_columns_.type);
    decisions_ = std::make_unique<Table>(f, h5::kDecisionsTable, decision_columns_.type);
    transfers_ = std::make_unique<Table>(f, h5::kTransfersTable, transfer_columns_->type);
    groups_ = std::make_unique<Table>(f, h5::kGroupsTable, group_columns_.type);
    summary_ = std::make_unique<Table>(f, h5::kSummaryTable, summary_columns_.type);
    // Empty until the search has ended, but created now: SWMR allows no new datasets later.
    finals_ = std::make_unique<Table>(f, h5::kFinalTable, final_columns_.type);
    final_documents_ = std::make_unique<Table>(f, h5::kFinalDocumentsTable, final_document_columns_.type);
    // Schema 4: what a resumed job replays, and one row per job.
    event_columns_.emplace(kH5EventDataBytes);
    events_ = std::make_unique<Table>(f, h5::kEventsTable, event_columns_->type);
    segments_ = std::make_unique<Table>(f, h5::kSegmentsTable, segment_columns_.type);

    for (const auto& d : info.space.domains()) space_->append(space_columns.encode(d));
    for (const auto& g : groups) groups_->append(group_columns_.encode(g));
    summary_->append(summary_columns_.encode(SummaryRecord{}));

    // From here on no object may be created: readers may attach at any time.
    H5_CHECK(H5Fstart_swmr_write(f));
  });
  begun_ = true;
  flush();
}

void Hdf5Store::after_row_written(bool decision) {
  // No background thread: the interval is checked whenever a row is written. A flush costs a
  // few microseconds (no fsync), so decisions, which are rare next to metric rows, flush at once.
  const auto now = std::chrono::steady_clock::now();
  if ((decision && options_.flush_decisions) || options_.flush_interval_s <= 0 ||
      std::chrono::duration<double>(now - last_flush_).count() >= options_.flush_interval_s)
    flush_now();
}

std::vector<Table*> Hdf5Store::tables() const {
  std::vector<Table*> out;
  for (const auto* table : {&events_, &space_, &trials_, &metrics_, &decisions_, &transfers_, &groups_, &summary_,
                            &finals_, &final_documents_, &segments_})
    if (*table) out.push_back(table->get());
  return out;
}

void Hdf5Store::forget_rolled_back_rows() {
  // Trials and segments whose first row was rolled back are new again, and every trial's next
  // row is flushed at once (the status it last wrote may not be on disk).
  for (auto it = trial_rows_.begin(); it != trial_rows_.end();) {
    it->second.status.reset();
    it = trials_ && it->second.row >= trials_->rows() ? trial_rows_.erase(it) : std::next(it);
  }
  if (segments_)
    for (auto it = segment_rows_.begin(); it != segment_rows_.end();)
      it = it->second >= segments_->rows() ? segment_rows_.erase(it) : std::next(it);
}

void Hdf5Store::flush_now() {
  // Each table's raw data, then its metadata (Table::flush stops before the metadata when the
  // data cannot be written, where H5Fflush alone would go on and publish the new extent over
  // rows that are not on disk). A table that fails goes back to its durable rows; the others
  // keep theirs. Then what is left (superblock, file space) with H5Fflush.
  // When /events fails, the rows of the other tables may stem from events that are not on
  // disk: they go back to their durable rows unflushed.
  std::string failure;
  bool events_failed = false;
  for (Table* table : tables()) {
    if (events_failed) {
      table->roll_back_to_durable();
      continue;
    }
    try {
      table->flush();
      if (table == events_.get()) durable_next_seq_ = next_seq_;
    } catch (const InfraError& e) {
      const bool rolled_back = table->roll_back_to_durable();
      if (table == events_.get()) {
        events_failed = true;
        next_seq_ = durable_next_seq_;
      }
      if (failure.empty())
        failure = std::string(e.what()) + (rolled_back ? "" : " (and HDF5 refused to shrink the table back: "
                                                              "readers will skip its unwritten rows)");
    }
  }
  if (!failure.empty()) {
    forget_rolled_back_rows();
    throw InfraError(failure);
  }
  H5_CHECK(H5Fflush(file_.id(), H5F_SCOPE_GLOBAL));
  last_flush_ = std::chrono::steady_clock::now();
}

void Hdf5Store::upsert_trial(const TrialRecord& t) {
  guarded([&] {
    require_open("upsert_trial()");
    const h5::Row row = trial_columns_->encode(t);
    // A new trial or a new status is a decision (durable at once); a report's progress (step,
    // metrics, seconds) is as frequent as metric rows and goes with them on the timer.
    auto it = trial_rows_.find(t.id);
    if (it != trial_rows_.end()) {
      trials_->write_at(it->second.row, row);
    } else {
      trials_->append(row);
      it = trial_rows_.emplace(t.id, TrialRow{trials_->rows() - 1, std::nullopt}).first;
    }
    const bool status_changed = it->second.status != t.status;
    it->second.status = t.status;
    after_row_written(/*decision=*/status_changed);
  });
}

void Hdf5Store::append_metric(const MetricRecord& m) {
  guarded([&] {
    require_open("append_metric()");
    metrics_->append(metric_columns_.encode(m));
    after_row_written(/*decision=*/false);
  });
}

void Hdf5Store::append_decision(const DecisionRecord& d) {
  guarded([&] {
    require_open("append_decision()");
    decisions_->append(decision_columns_.encode(d));
    after_row_written(/*decision=*/true);
  });
}

void Hdf5Store::append_transfer(const TransferRecord& t) {
  guarded([&] {
    require_open("append_transfer()");
    transfers_->append(transfer_columns_->encode(t));
    after_row_written(/*decision=*/true);
  });
}

void Hdf5Store::set_summary(const SummaryRecord& s) {
  guarded([&] {
    require_open("set_summary()");
    summary_->write_at(0, summary_columns_.encode(s));
    after_row_written(/*decision=*/false);
  });
}

void Hdf5Store::append_final(const FinalRecord& f, const std::vector<FinalDocumentRecord>& documents) {
  guarded([&] {
    require_open("append_final()");
    // The label ties the documents to their /final row: it must be there and stored whole.
    if (f.label.empty() || f.label.size() >= kH5NameBytes)
      throw InfraError("append_final(): the label '" + f.label + "' must have 1 to " +
                       std::to_string(kH5NameBytes - 1) + " bytes");
    // Encode every row before writing any, so a bad document leaves both tables as they were.
    std::vector<h5::Row> rows;
    rows.reserve(documents.size());
    for (FinalDocumentRecord d : documents) {
      if (d.label.empty()) d.label = f.label;  // a document belongs to its /final row
      if (d.label != f.label)
        throw InfraError("append_final(): document " + std::to_string(d.document) + " has the label '" + d.label +
                         "', its /final row '" + f.label + "'");
      rows.push_back(final_document_columns_.encode(d));
    }
    finals_->append(final_columns_.encode(f));
    for (const auto& row : rows) final_documents_->append(row);
    after_row_written(/*decision=*/true);  // written once, at the end: make it durable now
  });
}

void Hdf5Store::append_event(const EventRecord& e) {
  guarded([&] {
    require_open("append_event()");
    // A gap or a repeat would replay as another history; the reader refuses both.
    if (e.seq != next_seq_)
      throw InfraError("append_event(): event " + std::to_string(e.seq) + " where event " +
                       std::to_string(next_seq_) + " is due (events are numbered 0, 1, 2, ... over all jobs)");
    const std::vector<h5::Row> rows = event_columns_->encode(e);
    const hsize_t before = events_->rows();
    try {
      for (const auto& row : rows) events_->append(row);
    } catch (const InfraError&) {
      try {
        events_->truncate(before);  // no partial event between whole ones
      } catch (const InfraError&) {
        // The append's error is the one to report; a flush rolls back to the durable rows.
      }
      throw;
    }
    ++next_seq_;
    after_row_written(/*decision=*/false);  // as frequent as metric rows
  });
}

void Hdf5Store::set_segment(const SegmentRecord& s) {
  guarded([&] {
    require_open("set_segment()");
    const h5::Row row = segment_columns_.encode(s);
    const auto it = segment_rows_.find(s.index);
    if (it != segment_rows_.end()) {
      segments_->write_at(it->second, row);
    } else {
      segments_->append(row);
      segment_rows_.emplace(s.index, segments_->rows() - 1);
    }
    after_row_written(/*decision=*/true);  // rare, and what a later job's report counts on
  });
}

void Hdf5Store::flush() {
  guarded([&] {
    require_open("flush()");
    flush_now();
  });
}

void Hdf5Store::close() {
  if (closed_) return;
  closed_ = true;  // even if closing fails: a second attempt would only fail again
  guarded([&] {
    if (begun_) {
      flush_now();
      for (Table* table : tables()) table->close();
    }
    file_.close();
  });
}

}  // namespace

void check_result_columns(const Space& space) { h5::TrialColumns::check_names(space); }

std::unique_ptr<ResultStore> create_hdf5_store(const std::string& path, bool overwrite,
                                               const Hdf5StoreOptions& options) {
  return std::make_unique<Hdf5Store>(path, overwrite, options);
}

std::unique_ptr<ResultStore> open_hdf5_store_for_resume(const std::string& path, const Hdf5StoreOptions& options,
                                                        ExperimentData* existing) {
  return std::make_unique<Hdf5Store>(Hdf5Store::Resume{}, path, options, existing);
}

}  // namespace mpitune
