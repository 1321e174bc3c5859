// Private to src/store: the datasets of a result file and how each record type maps to a row.
//
// One struct per dataset holds its RowType and column indices, and encodes/decodes records.
// The writer and the reader share these, so the two cannot disagree on a column. The schema
// itself is documented in include/mpitune/store/hdf5_store.hpp.
#pragma once

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

// /trials: the fixed columns plus one per hyperparameter of the space.
struct TrialColumns {
  // text_bytes[i]: width of the column of space domain i when it holds text, 0 when float64.
  TrialColumns(const Space& space, const std::vector<size_t>& text_bytes);
  // The widths the writer uses: float64 for numeric domains and numeric choices, text wide
  // enough for the longest choice otherwise.
  static std::vector<size_t> text_bytes_for(const Space& space);
  // Throws ConfigError("space.<name>") when a hyperparameter is named like a fixed column.
  static void check_names(const Space& space);

  Row encode(const TrialRecord& t) const;
  TrialRecord decode(const Row& r) const;

  RowType type;
  size_t id, parent, group, status, start_time, end_time, last_step, best_metric, last_metric,
      device_seconds, reason, params_total, params_trainable;

 private:
  Space space_;
  std::vector<size_t> hparam_cols_;
  std::vector<bool> hparam_text_;
};

struct MetricColumns {
  MetricColumns();
  Row encode(const MetricRecord& m) const;
  MetricRecord decode(const Row& r) const;

  RowType type;
  size_t trial, step, time, train_loss, eval_loss, lr, tokens, throughput, loss_scale;
};

struct DecisionColumns {
  DecisionColumns();
  Row encode(const DecisionRecord& d) const;
  DecisionRecord decode(const Row& r) const;

  RowType type;
  size_t time, trial, step, bracket, rung, budget, action, reason;
};

struct TransferColumns {
  TransferColumns();
  Row encode(const TransferRecord& t) const;
  TransferRecord decode(const Row& r) const;

  RowType type;
  size_t time, source_trial, source_group, target_trial, target_group, step, bytes, seconds,
      old_hparams, new_hparams, payload;
};

struct GroupColumns {
  GroupColumns();
  Row encode(const GroupRecord& g) const;
  GroupRecord decode(const Row& r) const;

  RowType type;
  size_t group, ranks, hosts, devices;
};

struct SummaryColumns {
  SummaryColumns();
  Row encode(const SummaryRecord& s) const;
  SummaryRecord decode(const Row& r) const;

  RowType type;
  size_t status, end_time, elapsed_s, device_seconds, trials, best_trial, best_metric;
};

}  // namespace mpitune::h5
