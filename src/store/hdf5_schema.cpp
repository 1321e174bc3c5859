// Record <-> row mapping of every dataset of a result file (see hdf5_schema.hpp).
#include "hdf5_schema.hpp"

#include <algorithm>
#include <cmath>

#include "mpitune/store/hdf5_store.hpp"

namespace mpitune::h5 {
namespace {

// "choice(8, 16, 32)" -> "8, 16, 32": the values part of a categorical's spec.
std::string values_text(const Domain& d) {
  if (!d.is_categorical()) return "";
  const std::string spec = d.describe();
  const size_t open = spec.find('(');
  return open == std::string::npos ? spec : spec.substr(open + 1, spec.size() - open - 2);
}

bool has_text_values(const Domain& d) {
  return std::any_of(d.values.begin(), d.values.end(), [](const ParamValue& v) { return v.is_string(); });
}

bool has_only_int_values(const Domain& d) {
  if (d.kind == DomainKind::Int) return true;
  return d.is_categorical() && !d.values.empty() &&
         std::all_of(d.values.begin(), d.values.end(), [](const ParamValue& v) { return v.is_int(); });
}

// A stored number back to the value the trial had: ints for int domains, and for numeric
// choices the listed value itself (so 16 stays an int 16 and 0.5 a double, also from the
// float64 columns of files of schema < 3).
ParamValue numeric_value(const Domain& d, double x) {
  if (d.kind == DomainKind::Int) return static_cast<int64_t>(std::llround(x));
  if (d.is_categorical())
    for (const auto& v : d.values)
      if (v.is_numeric() && v.as_double() == x) return v;
  return x;
}

ParamValue int_value(const Domain& d, int64_t x) {
  if (d.is_categorical())
    for (const auto& v : d.values)
      if (v.is_int() && v.as_int() == x) return v;
  return x;
}

ParamValue text_value(const Domain& d, const std::string& s) {
  for (const auto& v : d.values)
    if (v.to_string() == s) return v;
  return ParamValue(s);
}

// "early_stopped", the longest status, must fit the status column with its NUL.
static_assert(sizeof("early_stopped") <= kH5KindBytes, "the status column is too narrow");

}  // namespace

// ---- /space ----

SpaceColumns::SpaceColumns(size_t text_bytes) {
  name = type.add_string("name", kH5NameBytes);
  kind = type.add_string("kind", kH5KindBytes);
  low = type.add_float64("low");
  high = type.add_float64("high");
  choices = type.add_string("choices", text_bytes);
  spec = type.add_string("spec", text_bytes);
}

size_t SpaceColumns::text_bytes_for(const Space& space) {
  size_t widest = 256;
  for (const auto& d : space.domains()) widest = std::max(widest, d.describe().size() + 1);
  return widest;
}

Row SpaceColumns::encode(const Domain& d) const {
  Row r(type);
  r.set_string(name, d.name);
  r.set_string(kind, domain_kind_name(d.kind));
  r.set_float64(low, d.is_categorical() ? kNaN : d.low);
  r.set_float64(high, d.is_categorical() ? kNaN : d.high);
  r.set_string(choices, values_text(d));
  r.set_string(spec, d.describe());
  return r;
}

Domain SpaceColumns::decode(const Row& r) const { return Space::parse_domain(r.string(name), r.string(spec)); }

// ---- hyperparameter columns ----

std::vector<HParamColumnSpec> hparam_columns_for(const Space& space) {
  std::vector<HParamColumnSpec> specs;
  for (const auto& d : space.domains()) {
    HParamColumnSpec c;
    if (d.is_categorical() && has_text_values(d)) {
      c.kind = ColumnKind::String;
      c.bytes = kH5HParamTextBytes;
      for (const auto& v : d.values) c.bytes = std::max(c.bytes, v.to_string().size() + 1);
    } else if (has_only_int_values(d)) {
      c.kind = ColumnKind::Int64;
    }
    specs.push_back(c);
  }
  return specs;
}

HParamColumns::HParamColumns(RowType& type, const Space& space, const std::string& prefix,
                             const std::vector<std::optional<HParamColumnSpec>>& specs)
    : space_(space) {
  MPITUNE_CHECK(specs.size() == space.size(), "one column spec per hyperparameter");
  for (size_t i = 0; i < space.size(); ++i) {
    const std::string name = prefix + space.domains()[i].name;
    const auto& spec = specs[i];
    kinds_.push_back(spec ? spec->kind : ColumnKind::Float64);
    if (!spec) {
      cols_.emplace_back();
      continue;
    }
    switch (spec->kind) {
      case ColumnKind::String: cols_.emplace_back(type.add_string(name, spec->bytes)); break;
      case ColumnKind::Int64: cols_.emplace_back(type.add_int64(name)); break;
      case ColumnKind::Float64: cols_.emplace_back(type.add_float64(name)); break;
      case ColumnKind::Int32:
      case ColumnKind::Bytes: MPITUNE_CHECK(false, "hyperparameter columns are numbers or strings");
    }
  }
}

void HParamColumns::encode(const HParams& hp, Row& r, const std::string& what) const {
  for (const auto& [n, v] : hp.entries())
    if (!space_.find(n))
      throw InfraError(what + " has hyperparameter '" + n + "' that is not in the search space");
  for (size_t i = 0; i < space_.size(); ++i) {
    if (!cols_[i]) continue;
    const size_t col = *cols_[i];
    const Domain& d = space_.domains()[i];
    const ParamValue* v = hp.find(d.name);
    if (kinds_[i] == ColumnKind::String) {
      r.set_string(col, v ? v->to_string() : "");
      continue;
    }
    if (v && v->is_string())
      throw InfraError(what + ": hyperparameter " + d.name + " = '" + v->as_string() + "' is text but its domain " +
                       d.describe() + " is numeric");
    if (kinds_[i] == ColumnKind::Float64) {
      r.set_float64(col, v ? v->as_double() : kNaN);
      continue;
    }
    int64_t x = kUnsetInt64;
    if (v && v->is_int()) {
      x = v->as_int();
    } else if (v) {  // a double where the domain has integers only: exact ones are fine
      const double f = v->as_double();
      if (!(std::floor(f) == f && std::fabs(f) < 9.2e18))
        throw InfraError(what + ": hyperparameter " + d.name + " = " + v->to_string() + " is not an integer but its domain " +
                         d.describe() + " has integers only");
      x = static_cast<int64_t>(f);
    }
    r.set_int64(col, x);
  }
}

HParams HParamColumns::decode(const Row& r) const {
  HParams hp;
  for (size_t i = 0; i < space_.size(); ++i) {
    if (!cols_[i]) continue;
    const size_t col = *cols_[i];
    const Domain& d = space_.domains()[i];
    switch (kinds_[i]) {
      case ColumnKind::String: {
        const std::string s = r.string(col);
        if (!s.empty()) hp.set(d.name, text_value(d, s));
        break;
      }
      case ColumnKind::Int64: {
        const int64_t x = r.int64(col);
        if (x != kUnsetInt64) hp.set(d.name, int_value(d, x));
        break;
      }
      case ColumnKind::Float64: {
        const double x = r.float64(col);
        if (!std::isnan(x)) hp.set(d.name, numeric_value(d, x));
        break;
      }
      case ColumnKind::Int32:
      case ColumnKind::Bytes: break;
    }
  }
  return hp;
}

// ---- /trials ----

namespace {
std::vector<std::optional<HParamColumnSpec>> all_present(const std::vector<HParamColumnSpec>& specs) {
  return {specs.begin(), specs.end()};
}
}  // namespace

TrialColumns::TrialColumns(const Space& space, const std::vector<HParamColumnSpec>& hparams) {
  id = type.add_int64("id");
  parent = type.add_int64("parent");
  group = type.add_int32("group");
  status = type.add_string("status", kH5KindBytes);
  hparams_ = HParamColumns(type, space, "", all_present(hparams));
  start_time = type.add_float64("start_time");
  end_time = type.add_float64("end_time");
  last_step = type.add_int64("last_step");
  best_metric = type.add_float64("best_metric");
  last_metric = type.add_float64("last_metric");
  metric_step = type.add_int64("metric_step");
  device_seconds = type.add_float64("device_seconds");
  reason = type.add_string("reason", kH5ReasonBytes);
  params_total = type.add_int64("params_total");
  params_trainable = type.add_int64("params_trainable");
  type.set_optional(params_total);  // schema 2: version 1 files have neither column
  type.set_optional(params_trainable);
  type.set_optional_int64(metric_step, -1);  // schema 3
}

void TrialColumns::check_names(const Space& space) {
  static const char* const fixed[] = {"id", "parent", "group", "status", "start_time", "end_time",
                                      "last_step", "best_metric", "last_metric", "metric_step",
                                      "device_seconds", "reason", "params_total", "params_trainable"};
  for (const auto& d : space.domains())
    for (const char* f : fixed)
      if (d.name == f)
        throw ConfigError("space." + d.name, "is also the name of a fixed column of /trials in the result file",
                          "rename the hyperparameter");
}

Row TrialColumns::encode(const TrialRecord& t) const {
  Row r(type);
  r.set_int64(id, t.id);
  r.set_int64(parent, t.parent);
  r.set_int32(group, t.group);
  r.set_string(status, trial_status_name(t.status));
  hparams_.encode(t.hparams, r, "trial " + std::to_string(t.id));
  r.set_float64(start_time, t.start_time);
  r.set_float64(end_time, t.end_time);
  r.set_int64(last_step, t.last_step);
  r.set_float64(best_metric, t.best_metric);
  r.set_float64(last_metric, t.last_metric);
  r.set_int64(metric_step, t.metric_step);
  r.set_float64(device_seconds, t.device_seconds);
  r.set_string(reason, t.reason);
  r.set_int64(params_total, t.params_total);
  r.set_int64(params_trainable, t.params_trainable);
  return r;
}

TrialRecord TrialColumns::decode(const Row& r) const {
  TrialRecord t;
  t.id = r.int64(id);
  t.parent = r.int64(parent);
  t.group = r.int32(group);
  t.status = parse_trial_status(r.string(status));
  t.hparams = hparams_.decode(r);
  t.start_time = r.float64(start_time);
  t.end_time = r.float64(end_time);
  t.last_step = r.int64(last_step);
  t.best_metric = r.float64(best_metric);
  t.last_metric = r.float64(last_metric);
  t.metric_step = r.int64(metric_step);
  t.device_seconds = r.float64(device_seconds);
  t.reason = r.string(reason);
  t.params_total = r.int64(params_total);
  t.params_trainable = r.int64(params_trainable);
  return t;
}

// ---- /metrics ----

MetricColumns::MetricColumns() {
  trial = type.add_int64("trial");
  step = type.add_int64("step");
  time = type.add_float64("time");
  train_loss = type.add_float64("train_loss");
  eval_loss = type.add_float64("eval_loss");
  retention_loss = type.add_float64("retention_loss");
  lr = type.add_float64("lr");
  tokens = type.add_int64("tokens");
  throughput = type.add_float64("throughput");
  loss_scale = type.add_float64("loss_scale");
  type.set_optional_float64(retention_loss, kNaN);  // schema 3
}

Row MetricColumns::encode(const MetricRecord& m) const {
  Row r(type);
  r.set_int64(trial, m.trial);
  r.set_int64(step, m.step);
  r.set_float64(time, m.time);
  r.set_float64(train_loss, m.train_loss);
  r.set_float64(eval_loss, m.eval_loss);
  r.set_float64(retention_loss, m.retention_loss);
  r.set_float64(lr, m.lr);
  r.set_int64(tokens, m.tokens);
  r.set_float64(throughput, m.throughput);
  r.set_float64(loss_scale, m.loss_scale);
  return r;
}

MetricRecord MetricColumns::decode(const Row& r) const {
  MetricRecord m;
  m.trial = r.int64(trial);
  m.step = r.int64(step);
  m.time = r.float64(time);
  m.train_loss = r.float64(train_loss);
  m.eval_loss = r.float64(eval_loss);
  m.retention_loss = r.float64(retention_loss);
  m.lr = r.float64(lr);
  m.tokens = r.int64(tokens);
  m.throughput = r.float64(throughput);
  m.loss_scale = r.float64(loss_scale);
  return m;
}

// ---- /decisions ----

DecisionColumns::DecisionColumns() {
  time = type.add_float64("time");
  trial = type.add_int64("trial");
  step = type.add_int64("step");
  bracket = type.add_int32("bracket");
  rung = type.add_int32("rung");
  budget = type.add_float64("budget");
  action = type.add_string("action", kH5KindBytes);
  reason = type.add_string("reason", kH5ReasonBytes);
}

Row DecisionColumns::encode(const DecisionRecord& d) const {
  Row r(type);
  r.set_float64(time, d.time);
  r.set_int64(trial, d.trial);
  r.set_int64(step, d.step);
  r.set_int32(bracket, d.bracket);
  r.set_int32(rung, d.rung);
  r.set_float64(budget, d.budget);
  r.set_string(action, d.action);
  r.set_string(reason, d.reason);
  return r;
}

DecisionRecord DecisionColumns::decode(const Row& r) const {
  DecisionRecord d;
  d.time = r.float64(time);
  d.trial = r.int64(trial);
  d.step = r.int64(step);
  d.bracket = r.int32(bracket);
  d.rung = r.int32(rung);
  d.budget = r.float64(budget);
  d.action = r.string(action);
  d.reason = r.string(reason);
  return d;
}

// ---- /pbt_transfers ----

TransferColumns::TransferColumns(const Space& space)
    : TransferColumns(space, all_present(hparam_columns_for(space)), all_present(hparam_columns_for(space))) {}

TransferColumns::TransferColumns(const Space& space, const std::vector<std::optional<HParamColumnSpec>>& old_specs,
                                 const std::vector<std::optional<HParamColumnSpec>>& new_specs) {
  time = type.add_float64("time");
  source_trial = type.add_int64("source_trial");
  source_group = type.add_int32("source_group");
  target_trial = type.add_int64("target_trial");
  target_group = type.add_int32("target_group");
  step = type.add_int64("step");
  bytes = type.add_int64("bytes");
  seconds = type.add_float64("seconds");
  old_hparams = type.add_string("old_hparams", kH5ReasonBytes);
  new_hparams = type.add_string("new_hparams", kH5ReasonBytes);
  payload = type.add_string("payload", kH5KindBytes);
  type.set_optional(payload);  // schema 2
  via = type.add_string("via", kH5KindBytes);
  type.set_optional(via);  // schema 4
  old_values_ = HParamColumns(type, space, "old.", old_specs);  // schema 3
  new_values_ = HParamColumns(type, space, "new.", new_specs);
}

Row TransferColumns::encode(const TransferRecord& t) const {
  Row r(type);
  r.set_float64(time, t.time);
  r.set_int64(source_trial, t.source_trial);
  r.set_int32(source_group, t.source_group);
  r.set_int64(target_trial, t.target_trial);
  r.set_int32(target_group, t.target_group);
  r.set_int64(step, t.step);
  r.set_int64(bytes, t.bytes);
  r.set_float64(seconds, t.seconds);
  r.set_string(old_hparams, t.old_hparams);
  r.set_string(new_hparams, t.new_hparams);
  r.set_string(payload, t.payload);
  r.set_string(via, t.via);
  const std::string what = "the transfer from trial " + std::to_string(t.source_trial) + " to trial " +
                           std::to_string(t.target_trial);
  old_values_.encode(t.old_values, r, what + " (old values)");
  new_values_.encode(t.new_values, r, what + " (new values)");
  return r;
}

TransferRecord TransferColumns::decode(const Row& r) const {
  TransferRecord t;
  t.time = r.float64(time);
  t.source_trial = r.int64(source_trial);
  t.source_group = r.int32(source_group);
  t.target_trial = r.int64(target_trial);
  t.target_group = r.int32(target_group);
  t.step = r.int64(step);
  t.bytes = r.int64(bytes);
  t.seconds = r.float64(seconds);
  t.old_hparams = r.string(old_hparams);
  t.new_hparams = r.string(new_hparams);
  t.payload = r.string(payload);
  t.via = r.string(via);
  // Before schema 4 a copy came from the source's group or from its checkpoint files.
  if (t.via.empty()) t.via = t.source_group >= 0 ? "ranks" : "files";
  t.old_values = old_values_.decode(r);
  t.new_values = new_values_.decode(r);
  return t;
}

// ---- /groups ----

GroupColumns::GroupColumns() {
  group = type.add_int32("group");
  ranks = type.add_string("ranks", kH5GroupTextBytes);
  hosts = type.add_string("hosts", kH5GroupTextBytes);
  devices = type.add_string("devices", kH5GroupTextBytes);
  cpus = type.add_string("cpus", kH5GroupTextBytes);
  type.set_optional(cpus);  // added within schema 4 (placement, issue 12): older files read ""
}

Row GroupColumns::encode(const GroupRecord& g) const {
  Row r(type);
  r.set_int32(group, g.group);
  r.set_string(ranks, g.ranks);
  r.set_string(hosts, g.hosts);
  r.set_string(devices, g.devices);
  r.set_string(cpus, g.cpus);
  return r;
}

GroupRecord GroupColumns::decode(const Row& r) const {
  GroupRecord g;
  g.group = r.int32(group);
  g.ranks = r.string(ranks);
  g.hosts = r.string(hosts);
  g.devices = r.string(devices);
  g.cpus = r.string(cpus);
  return g;
}

// ---- /summary ----

SummaryColumns::SummaryColumns() {
  status = type.add_string("status", kH5KindBytes);
  end_time = type.add_float64("end_time");
  elapsed_s = type.add_float64("elapsed_s");
  device_seconds = type.add_float64("device_seconds");
  trials = type.add_int64("trials");
  best_trial = type.add_int64("best_trial");
  best_metric = type.add_float64("best_metric");
  best_budget = type.add_int64("best_budget");
  best_any_trial = type.add_int64("best_any_trial");
  best_any_metric = type.add_float64("best_any_metric");
  type.set_optional_int64(best_budget, 0);  // schema 3
  type.set_optional_int64(best_any_trial, -1);
  type.set_optional_float64(best_any_metric, kNaN);
}

Row SummaryColumns::encode(const SummaryRecord& s) const {
  Row r(type);
  r.set_string(status, s.status);
  r.set_float64(end_time, s.end_time);
  r.set_float64(elapsed_s, s.elapsed_s);
  r.set_float64(device_seconds, s.device_seconds);
  r.set_int64(trials, s.trials);
  r.set_int64(best_trial, s.best_trial);
  r.set_float64(best_metric, s.best_metric);
  r.set_int64(best_budget, s.best_budget);
  r.set_int64(best_any_trial, s.best_any_trial);
  r.set_float64(best_any_metric, s.best_any_metric);
  return r;
}

SummaryRecord SummaryColumns::decode(const Row& r) const {
  SummaryRecord s;
  s.status = r.string(status);
  s.end_time = r.float64(end_time);
  s.elapsed_s = r.float64(elapsed_s);
  s.device_seconds = r.float64(device_seconds);
  s.trials = r.int64(trials);
  s.best_trial = r.int64(best_trial);
  s.best_metric = r.float64(best_metric);
  s.best_budget = r.int64(best_budget);
  s.best_any_trial = r.int64(best_any_trial);
  s.best_any_metric = r.float64(best_any_metric);
  return s;
}

// ---- /final ----

FinalColumns::FinalColumns() {
  label = type.add_string("label", kH5NameBytes);
  trial = type.add_int64("trial");
  step = type.add_int64("step");
  hparams = type.add_string("hparams", kH5ReasonBytes);
  eval_loss = type.add_float64("eval_loss");
  test_loss = type.add_float64("test_loss");
  test_ci_low = type.add_float64("test_ci_low");
  test_ci_high = type.add_float64("test_ci_high");
  test_documents = type.add_int64("test_documents");
  test_tokens = type.add_int64("test_tokens");
  bootstrap = type.add_int32("bootstrap");
  retention_loss = type.add_float64("retention_loss");
  seconds = type.add_float64("seconds");
}

Row FinalColumns::encode(const FinalRecord& f) const {
  Row r(type);
  r.set_string(label, f.label);
  r.set_int64(trial, f.trial);
  r.set_int64(step, f.step);
  r.set_string(hparams, f.hparams);
  r.set_float64(eval_loss, f.eval_loss);
  r.set_float64(test_loss, f.test_loss);
  r.set_float64(test_ci_low, f.test_ci_low);
  r.set_float64(test_ci_high, f.test_ci_high);
  r.set_int64(test_documents, f.test_documents);
  r.set_int64(test_tokens, f.test_tokens);
  r.set_int32(bootstrap, f.bootstrap);
  r.set_float64(retention_loss, f.retention_loss);
  r.set_float64(seconds, f.seconds);
  return r;
}

FinalRecord FinalColumns::decode(const Row& r) const {
  FinalRecord f;
  f.label = r.string(label);
  f.trial = r.int64(trial);
  f.step = r.int64(step);
  f.hparams = r.string(hparams);
  f.eval_loss = r.float64(eval_loss);
  f.test_loss = r.float64(test_loss);
  f.test_ci_low = r.float64(test_ci_low);
  f.test_ci_high = r.float64(test_ci_high);
  f.test_documents = r.int64(test_documents);
  f.test_tokens = r.int64(test_tokens);
  f.bootstrap = r.int32(bootstrap);
  f.retention_loss = r.float64(retention_loss);
  f.seconds = r.float64(seconds);
  return f;
}

// ---- /final_documents ----

FinalDocumentColumns::FinalDocumentColumns() {
  label = type.add_string("label", kH5NameBytes);
  document = type.add_int64("document");
  loss_sum = type.add_float64("loss_sum");
  tokens = type.add_int64("tokens");
}

Row FinalDocumentColumns::encode(const FinalDocumentRecord& d) const {
  Row r(type);
  r.set_string(label, d.label);
  r.set_int64(document, d.document);
  r.set_float64(loss_sum, d.loss_sum);
  r.set_int64(tokens, d.tokens);
  return r;
}

FinalDocumentRecord FinalDocumentColumns::decode(const Row& r) const {
  FinalDocumentRecord d;
  d.label = r.string(label);
  d.document = r.int64(document);
  d.loss_sum = r.float64(loss_sum);
  d.tokens = r.int64(tokens);
  return d;
}

// ---- /events ----

EventColumns::EventColumns(size_t data_bytes) {
  seq = type.add_int64("seq");
  time = type.add_float64("time");
  vtime = type.add_int64("vtime");
  group = type.add_int32("group");
  kind = type.add_string("kind", kH5KindBytes);
  part = type.add_int32("part");
  parts = type.add_int32("parts");
  size = type.add_int32("size");
  data = type.add_bytes("data", data_bytes);
}

std::vector<Row> EventColumns::encode(const EventRecord& e) const {
  if (e.kind.size() >= kH5KindBytes)
    throw InfraError("event " + std::to_string(e.seq) + ": its kind '" + e.kind + "' is longer than the " +
                     std::to_string(kH5KindBytes - 1) + " bytes of the kind column");
  const size_t width = type.column(data).bytes;
  const size_t count = std::max<size_t>(1, (e.data.size() + width - 1) / width);
  if (count > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw InfraError("event " + std::to_string(e.seq) + ": " + std::to_string(e.data.size()) +
                     " bytes of data are more than /events can hold");
  std::vector<Row> rows;
  rows.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    Row r(type);
    r.set_int64(seq, e.seq);
    r.set_float64(time, e.time);
    r.set_int64(vtime, e.vtime);
    r.set_int32(group, e.group);
    r.set_string(kind, e.kind);
    r.set_int32(part, static_cast<int32_t>(i));
    r.set_int32(parts, static_cast<int32_t>(count));
    const size_t first = i * width;
    const size_t n = std::min(width, e.data.size() - std::min(first, e.data.size()));
    r.set_int32(size, static_cast<int32_t>(n));
    r.set_bytes(data, e.data.data() + first, n);
    rows.push_back(std::move(r));
  }
  return rows;
}

EventPart EventColumns::decode(const Row& r) const {
  EventPart p;
  p.seq = r.int64(seq);
  p.time = r.float64(time);
  p.vtime = r.int64(vtime);
  p.group = r.int32(group);
  p.kind = r.string(kind);
  p.part = r.int32(part);
  p.parts = r.int32(parts);
  const int32_t n = r.int32(size);
  const size_t width = type.column(data).bytes;
  if (p.parts < 1 || p.part < 0 || p.part >= p.parts)
    throw BadFileError("event " + std::to_string(p.seq) + ": part " + std::to_string(p.part) + " of " +
                       std::to_string(p.parts));
  // Every part but the last is full: the writer cuts the data into whole rows.
  const bool last = p.part == p.parts - 1;
  if (n < 0 || static_cast<size_t>(n) > width || (!last && static_cast<size_t>(n) != width))
    throw BadFileError("event " + std::to_string(p.seq) + ": part " + std::to_string(p.part) + " of " +
                       std::to_string(p.parts) + " says it holds " + std::to_string(n) + " bytes of a " +
                       std::to_string(width) + "-byte column");
  p.data = r.bytes(data, static_cast<size_t>(n));
  return p;
}

// ---- /segments ----

SegmentColumns::SegmentColumns() {
  index = type.add_int64("index");
  start_time = type.add_float64("start_time");
  end_time = type.add_float64("end_time");
  status = type.add_string("status", kH5KindBytes);
  elapsed_s = type.add_float64("elapsed_s");
  device_seconds = type.add_float64("device_seconds");
  world_size = type.add_int32("world_size");
  group_size = type.add_int32("group_size");
  num_groups = type.add_int32("num_groups");
  devices = type.add_int32("devices");
  hosts = type.add_string("hosts", kH5SegmentTextBytes);
  command_line = type.add_string("command_line", kH5SegmentTextBytes);
  first_event = type.add_int64("first_event");
  reason = type.add_string("reason", kH5ReasonBytes);
}

Row SegmentColumns::encode(const SegmentRecord& s) const {
  Row r(type);
  r.set_int64(index, s.index);
  r.set_float64(start_time, s.start_time);
  r.set_float64(end_time, s.end_time);
  r.set_string(status, s.status);
  r.set_float64(elapsed_s, s.elapsed_s);
  r.set_float64(device_seconds, s.device_seconds);
  r.set_int32(world_size, s.world_size);
  r.set_int32(group_size, s.group_size);
  r.set_int32(num_groups, s.num_groups);
  r.set_int32(devices, s.devices);
  r.set_string(hosts, s.hosts);
  r.set_string(command_line, s.command_line);
  r.set_int64(first_event, s.first_event);
  r.set_string(reason, s.reason);
  return r;
}

SegmentRecord SegmentColumns::decode(const Row& r) const {
  SegmentRecord s;
  s.index = r.int64(index);
  s.start_time = r.float64(start_time);
  s.end_time = r.float64(end_time);
  s.status = r.string(status);
  s.elapsed_s = r.float64(elapsed_s);
  s.device_seconds = r.float64(device_seconds);
  s.world_size = r.int32(world_size);
  s.group_size = r.int32(group_size);
  s.num_groups = r.int32(num_groups);
  s.devices = r.int32(devices);
  s.hosts = r.string(hosts);
  s.command_line = r.string(command_line);
  s.first_event = r.int64(first_event);
  s.reason = r.string(reason);
  return s;
}

}  // namespace mpitune::h5
