// Private to src/store: the datasets of a result file and how each record type maps to a row.
//
// One struct per dataset holds its RowType and column indices, and encodes/decodes records.
// The writer and the reader share these, so the two cannot disagree on a column. The schema
// itself is documented in include/mpitune/store/hdf5_store.hpp.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "h5_table.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune::h5 {

constexpr const char* kSpaceTable = "/space";
constexpr const char* kTrialsTable = "/trials";
constexpr const char* kMetricsTable = "/metrics";
constexpr const char* kDecisionsTable = "/decisions";
constexpr const char* kTransfersTable = "/pbt_transfers";
constexpr const char* kGroupsTable = "/groups";
constexpr const char* kSummaryTable = "/summary";
constexpr const char* kFinalTable = "/final";
constexpr const char* kFinalDocumentsTable = "/final_documents";
constexpr const char* kEventsTable = "/events";
constexpr const char* kSegmentsTable = "/segments";

struct SpaceColumns {
  // text_bytes: width of the choices and spec columns (wide enough for every domain).
  explicit SpaceColumns(size_t text_bytes);
  static size_t text_bytes_for(const Space& space);
  Row encode(const Domain& d) const;
  // Parses the spec back with Space::parse_domain (throws ConfigError if it does not parse).
  Domain decode(const Row& r) const;

  RowType type;
  size_t name, kind, low, high, choices, spec;
};

// How one hyperparameter is stored: int64 for domains whose every value is an integer (int
// ranges, choice/grid of integers), a fixed-length string for choice/grid with text, float64
// otherwise. Files of schema < 3 hold integers as float64; the reader takes the file's kind.
struct HParamColumnSpec {
  ColumnKind kind = ColumnKind::Float64;
  size_t bytes = 0;  // strings: width including the NUL
};
// The kinds the writer uses, one per domain of `space`, in space order.
std::vector<HParamColumnSpec> hparam_columns_for(const Space& space);

// The value of an int64 hyperparameter column whose trial has none (a pending trial).
constexpr int64_t kUnsetInt64 = std::numeric_limits<int64_t>::min();

// One column per hyperparameter, named prefix + name, inside a larger row type: /trials has
// them unprefixed, /pbt_transfers twice, as "old.<name>" and "new.<name>".
class HParamColumns {
 public:
  HParamColumns() = default;
  // specs[i]: the column of domain i; nullopt: the table has none (an older file), and decode()
  // leaves that hyperparameter unset.
  HParamColumns(RowType& type, const Space& space, const std::string& prefix,
                const std::vector<std::optional<HParamColumnSpec>>& specs);

  // `what` names the record in errors ("trial 3"). Unset values are NaN, "" or kUnsetInt64.
  void encode(const HParams& hp, Row& r, const std::string& what) const;
  HParams decode(const Row& r) const;

 private:
  Space space_;
  std::vector<std::optional<size_t>> cols_;  // per domain: its column index in the row type
  std::vector<ColumnKind> kinds_;            // per domain: that column's kind
};

// /trials: the fixed columns plus one per hyperparameter of the space.
struct TrialColumns {
  TrialColumns(const Space& space, const std::vector<HParamColumnSpec>& hparams);
  // Throws ConfigError("space.<name>") when a hyperparameter is named like a fixed column.
  static void check_names(const Space& space);

  Row encode(const TrialRecord& t) const;
  TrialRecord decode(const Row& r) const;

  RowType type;
  size_t id, parent, group, status, start_time, end_time, last_step, best_metric, last_metric,
      metric_step, device_seconds, reason, params_total, params_trainable;

 private:
  HParamColumns hparams_;
};

struct MetricColumns {
  MetricColumns();
  Row encode(const MetricRecord& m) const;
  MetricRecord decode(const Row& r) const;

  RowType type;
  size_t trial, step, time, train_loss, eval_loss, retention_loss, lr, tokens, throughput, loss_scale;
};

struct DecisionColumns {
  DecisionColumns();
  Row encode(const DecisionRecord& d) const;
  DecisionRecord decode(const Row& r) const;

  RowType type;
  size_t time, trial, step, bracket, rung, budget, action, reason;
};

// /pbt_transfers: the fixed columns, then old.<name> and new.<name> per hyperparameter.
struct TransferColumns {
  // old_values/new_values: one entry per domain of `space` (nullopt: the file has no such column).
  TransferColumns(const Space& space, const std::vector<std::optional<HParamColumnSpec>>& old_values,
                  const std::vector<std::optional<HParamColumnSpec>>& new_values);
  // The columns the writer makes.
  explicit TransferColumns(const Space& space);
  Row encode(const TransferRecord& t) const;
  TransferRecord decode(const Row& r) const;

  RowType type;
  size_t time, source_trial, source_group, target_trial, target_group, step, bytes, seconds,
      old_hparams, new_hparams, payload, via;

 private:
  HParamColumns old_values_, new_values_;
};

struct GroupColumns {
  GroupColumns();
  Row encode(const GroupRecord& g) const;
  GroupRecord decode(const Row& r) const;

  RowType type;
  size_t group, ranks, hosts, devices, cpus;
};

struct SummaryColumns {
  SummaryColumns();
  Row encode(const SummaryRecord& s) const;
  SummaryRecord decode(const Row& r) const;

  RowType type;
  size_t status, end_time, elapsed_s, device_seconds, trials, best_trial, best_metric, best_budget,
      best_any_trial, best_any_metric;
};

struct FinalColumns {
  FinalColumns();
  Row encode(const FinalRecord& f) const;
  FinalRecord decode(const Row& r) const;

  RowType type;
  size_t label, trial, step, hparams, eval_loss, test_loss, test_ci_low, test_ci_high, test_documents,
      test_tokens, bootstrap, retention_loss, seconds;
};

struct FinalDocumentColumns {
  FinalDocumentColumns();
  Row encode(const FinalDocumentRecord& d) const;
  FinalDocumentRecord decode(const Row& r) const;

  RowType type;
  size_t label, document, loss_sum, tokens;
};

// /events: one EventRecord in one or more consecutive rows ("parts"), each carrying up to
// data_bytes of its data in a byte column: most events (protocol messages of about 100 bytes)
// take one row, a long one (a FinalEvalDone with thousands of documents) as many as it needs.
struct EventPart {
  int64_t seq = 0;
  double time = 0;
  int64_t vtime = -1;
  int group = -1;
  std::string kind;
  int32_t part = 0;   // 0 .. parts - 1
  int32_t parts = 1;  // rows of this event
  std::vector<uint8_t> data;  // this row's share of the event's data
};

struct EventColumns {
  // data_bytes: width of the data column (kH5EventDataBytes in files this mpitune writes; the
  // reader takes the file's).
  explicit EventColumns(size_t data_bytes);
  // The rows of one event, in part order. Throws InfraError when its kind does not fit the
  // kind column whole (a cut kind would replay as another input) or it needs more than
  // INT32_MAX rows.
  std::vector<Row> encode(const EventRecord& e) const;
  // Throws BadFileError when part, parts or size are out of range (damage).
  EventPart decode(const Row& r) const;

  RowType type;
  size_t seq, time, vtime, group, kind, part, parts, size, data;
};

struct SegmentColumns {
  SegmentColumns();
  Row encode(const SegmentRecord& s) const;
  SegmentRecord decode(const Row& r) const;

  RowType type;
  size_t index, start_time, end_time, status, elapsed_s, device_seconds, world_size, group_size, num_groups,
      devices, hosts, command_line, first_event, reason;
};

}  // namespace mpitune::h5
