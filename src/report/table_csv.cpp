// The tables of result files as CSV (see report/table_csv.hpp): one writer per table, each
// naming its columns once, in the order of the file's dataset.
#include "mpitune/report/table_csv.hpp"

#include <functional>

#include "mpitune/core/error.hpp"
#include "csv_row.hpp"

namespace mpitune {

const std::vector<std::string>& csv_table_names() {
  static const std::vector<std::string> names = {"trials", "metrics", "decisions", "pbt_transfers",
                                                 "final", "groups", "segments"};
  return names;
}

const char* csv_table_name(ResultTable t) { return csv_table_names()[static_cast<size_t>(t)].c_str(); }

ResultTable parse_csv_table(const std::string& name, const std::string& option) {
  const auto& names = csv_table_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<ResultTable>(i);
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : "|") + n;
  throw ConfigError(option, "unknown table '" + name + "'", "give one of " + all);
}

namespace {

using csv::CsvRow;
using csv::HParamColumn;

// Writes the header (with `file` first when there are several files), then calls `rows` for
// each file with a function that starts a row of that file.
std::string write_table(const std::vector<const ExperimentData*>& files, const std::vector<std::string>& columns,
                        const std::function<void(const ExperimentData&, const std::function<CsvRow&()>&)>& rows) {
  const bool with_file = files.size() > 1;
  std::string out;
  std::vector<std::string> header;
  if (with_file) header.push_back("file");
  header.insert(header.end(), columns.begin(), columns.end());
  out += csv::header_line(header);
  CsvRow row;
  bool open = false;
  for (const ExperimentData* d : files) {
    const std::function<CsvRow&()> begin_row = [&]() -> CsvRow& {
      if (open) out += row.line();
      row = CsvRow();
      open = true;
      if (with_file) row.text(d->path);
      return row;
    };
    rows(*d, begin_row);
  }
  if (open) out += row.line();
  return out;
}

std::vector<std::string> names_with(std::vector<std::string> fixed, size_t at,
                                    const std::vector<HParamColumn>& hparams, const std::string& prefix) {
  std::vector<std::string> added;
  for (const auto& c : hparams) added.push_back(prefix + c.name);
  fixed.insert(fixed.begin() + static_cast<long>(at), added.begin(), added.end());
  return fixed;
}

std::string trials_csv(const std::vector<const ExperimentData*>& files) {
  const auto hp = csv::hparam_columns(files);
  const auto columns = names_with({"id", "parent", "group", "status", "start_time", "end_time", "last_step",
                                   "best_metric", "last_metric", "metric_step", "device_seconds", "reason",
                                   "params_total", "params_trainable"},
                                  4, hp, "");
  return write_table(files, columns, [&](const ExperimentData& d, const std::function<CsvRow&()>& begin) {
    for (const auto& t : d.trials) {
      CsvRow& r = begin();
      r.integer(t.id).integer(t.parent).integer(t.group).text(trial_status_name(t.status));
      r.hparams(t.hparams, hp);
      r.real(t.start_time).real(t.end_time).integer(t.last_step).real(t.best_metric).real(t.last_metric);
      r.integer(t.metric_step).real(t.device_seconds).text(t.reason).integer(t.params_total);
      r.integer(t.params_trainable);
    }
  });
}

std::string metrics_csv(const std::vector<const ExperimentData*>& files) {
  return write_table(files, {"trial", "step", "time", "train_loss", "eval_loss", "retention_loss", "lr", "tokens",
                             "throughput", "loss_scale"},
                     [](const ExperimentData& d, const std::function<CsvRow&()>& begin) {
                       for (const auto& m : d.metrics)
                         begin().integer(m.trial).integer(m.step).real(m.time).real(m.train_loss).real(m.eval_loss)
                             .real(m.retention_loss).real(m.lr).integer(m.tokens).real(m.throughput)
                             .real(m.loss_scale);
                     });
}

std::string decisions_csv(const std::vector<const ExperimentData*>& files) {
  return write_table(files, {"time", "trial", "step", "bracket", "rung", "budget", "action", "reason"},
                     [](const ExperimentData& d, const std::function<CsvRow&()>& begin) {
                       for (const auto& x : d.decisions)
                         begin().real(x.time).integer(x.trial).integer(x.step).integer(x.bracket).integer(x.rung)
                             .real(x.budget).text(x.action).text(x.reason);
                     });
}

std::string transfers_csv(const std::vector<const ExperimentData*>& files) {
  const auto hp = csv::hparam_columns(files);
  auto columns = names_with({"time", "source_trial", "source_group", "target_trial", "target_group", "step", "bytes",
                             "seconds", "payload", "via"},
                            10, hp, "old.");
  columns = names_with(columns, columns.size(), hp, "new.");
  return write_table(files, columns, [&](const ExperimentData& d, const std::function<CsvRow&()>& begin) {
    for (const auto& t : d.transfers) {
      CsvRow& r = begin();
      r.real(t.time).integer(t.source_trial).integer(t.source_group).integer(t.target_trial);
      r.integer(t.target_group).integer(t.step).integer(t.bytes).real(t.seconds).text(t.payload).text(t.via);
      r.hparams(t.old_values, hp).hparams(t.new_values, hp);
    }
  });
}

std::string final_csv(const std::vector<const ExperimentData*>& files) {
  return write_table(files, {"label", "trial", "step", "hparams", "eval_loss", "test_loss", "test_ci_low",
                             "test_ci_high", "test_documents", "test_tokens", "bootstrap", "retention_loss", "seconds"},
                     [](const ExperimentData& d, const std::function<CsvRow&()>& begin) {
                       for (const auto& f : d.finals)
                         begin().text(f.label).integer(f.trial).integer(f.step).text(f.hparams).real(f.eval_loss)
                             .real(f.test_loss).real(f.test_ci_low).real(f.test_ci_high).integer(f.test_documents)
                             .integer(f.test_tokens).integer(f.bootstrap).real(f.retention_loss).real(f.seconds);
                     });
}

std::string groups_csv(const std::vector<const ExperimentData*>& files) {
  return write_table(files, {"group", "ranks", "hosts", "devices", "cpus"},
                     [](const ExperimentData& d, const std::function<CsvRow&()>& begin) {
                       for (const auto& g : d.groups)
                         begin().integer(g.group).text(g.ranks).text(g.hosts).text(g.devices).text(g.cpus);
                     });
}

std::string segments_csv(const std::vector<const ExperimentData*>& files) {
  return write_table(files, {"index", "start_time", "end_time", "status", "elapsed_s", "device_seconds", "world_size",
                             "group_size", "num_groups", "devices", "hosts", "command_line", "first_event", "reason"},
                     [](const ExperimentData& d, const std::function<CsvRow&()>& begin) {
                       for (const auto& s : d.segments)
                         begin().integer(s.index).real(s.start_time).real(s.end_time).text(s.status).real(s.elapsed_s)
                             .real(s.device_seconds).integer(s.world_size).integer(s.group_size)
                             .integer(s.num_groups).integer(s.devices).text(s.hosts).text(s.command_line)
                             .integer(s.first_event).text(s.reason);
                     });
}

}  // namespace

std::string format_table_csv(const std::vector<const ExperimentData*>& files, ResultTable table) {
  switch (table) {
    case ResultTable::Trials: return trials_csv(files);
    case ResultTable::Metrics: return metrics_csv(files);
    case ResultTable::Decisions: return decisions_csv(files);
    case ResultTable::PbtTransfers: return transfers_csv(files);
    case ResultTable::Final: return final_csv(files);
    case ResultTable::Groups: return groups_csv(files);
    case ResultTable::Segments: return segments_csv(files);
  }
  throw InfraError("format_table_csv: unknown table");
}

}  // namespace mpitune
