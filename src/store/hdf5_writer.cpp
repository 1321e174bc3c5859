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
#include <chrono>
#include <filesystem>
#include <iterator>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "h5_support.hpp"
#include "h5_table.hpp"
#include "hdf5_schema.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace mpitune {
namespace {

using h5::H5Handle;
using h5::Table;

class Hdf5Store final : public ResultStore {
 public:
  Hdf5Store(std::string path, bool overwrite, const Hdf5StoreOptions& options);
  ~Hdf5Store() override;

  void begin(const ExperimentInfo& info, const std::vector<GroupRecord>& groups) override;
  void upsert_trial(const TrialRecord& t) override;
  void append_metric(const MetricRecord& m) override;
  void append_decision(const DecisionRecord& d) override;
  void append_transfer(const TransferRecord& t) override;
  void set_summary(const SummaryRecord& s) override;
  void append_final(const FinalRecord& f, const std::vector<FinalDocumentRecord>& documents) override;
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
  std::vector<Table*> tables() const;

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

  std::unique_ptr<Table> space_, trials_, metrics_, decisions_, transfers_, groups_, summary_, finals_,
      final_documents_;
  std::unordered_map<TrialId, hsize_t> trial_rows_;  // trial id -> its row in /trials
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
  if (begun_) throw InfraError("result file '" + path_ + "': begin() called twice");
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
  if (decision || options_.flush_interval_s <= 0 ||
      std::chrono::duration<double>(now - last_flush_).count() >= options_.flush_interval_s)
    flush_now();
}

std::vector<Table*> Hdf5Store::tables() const {
  std::vector<Table*> out;
  for (const auto* table :
       {&space_, &trials_, &metrics_, &decisions_, &transfers_, &groups_, &summary_, &finals_, &final_documents_})
    if (*table) out.push_back(table->get());
  return out;
}

void Hdf5Store::flush_now() {
  // Each table's raw data, then its metadata (Table::flush stops before the metadata when the
  // data cannot be written, where H5Fflush alone would go on and publish the new extent over
  // rows that are not on disk). A table that fails goes back to its durable rows; the others
  // keep theirs. Then what is left (superblock, file space) with H5Fflush.
  std::string failure;
  for (Table* table : tables()) {
    try {
      table->flush();
    } catch (const InfraError& e) {
      const bool rolled_back = table->roll_back_to_durable();
      if (failure.empty())
        failure = std::string(e.what()) + (rolled_back ? "" : " (and HDF5 refused to shrink the table back: "
                                                              "readers will skip its unwritten rows)");
    }
  }
  if (!failure.empty()) {
    if (trials_)  // trials whose first row was rolled back are new again
      for (auto it = trial_rows_.begin(); it != trial_rows_.end();)
        it = it->second >= trials_->rows() ? trial_rows_.erase(it) : std::next(it);
    throw InfraError(failure);
  }
  H5_CHECK(H5Fflush(file_.id(), H5F_SCOPE_GLOBAL));
  last_flush_ = std::chrono::steady_clock::now();
}

void Hdf5Store::upsert_trial(const TrialRecord& t) {
  guarded([&] {
    require_open("upsert_trial()");
    const h5::Row row = trial_columns_->encode(t);
    const auto it = trial_rows_.find(t.id);
    if (it != trial_rows_.end()) {
      trials_->write_at(it->second, row);
    } else {
      trials_->append(row);
      trial_rows_.emplace(t.id, trials_->rows() - 1);
    }
    after_row_written(/*decision=*/true);
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

}  // namespace mpitune
