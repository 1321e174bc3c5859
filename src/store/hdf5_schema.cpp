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

// A stored float64 back to the value the trial had: ints for int domains, and for numeric
// choices the listed value itself (so 16 stays an int 16 and 0.5 a double).
ParamValue numeric_value(const Domain& d, double x) {
  if (d.kind == DomainKind::Int) return static_cast<int64_t>(std::llround(x));
  if (d.is_categorical())
    for (const auto& v : d.values)
      if (v.is_numeric() && v.as_double() == x) return v;
  return x;
}

ParamValue text_value(const Domain& d, const std::string& s) {
  for (const auto& v : d.values)
    if (v.to_string() == s) return v;
  return ParamValue(s);
}

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

// ---- /trials ----

TrialColumns::TrialColumns(const Space& space, const std::vector<size_t>& text_bytes) : space_(space) {
  MPITUNE_CHECK(text_bytes.size() == space.size(), "one column width per hyperparameter");
  id = type.add_int64("id");
  parent = type.add_int64("parent");
  group = type.add_int32("group");
  status = type.add_string("status", kH5KindBytes);
  for (size_t i = 0; i < space.size(); ++i) {
    const std::string& n = space.domains()[i].name;
    hparam_text_.push_back(text_bytes[i] > 0);
    hparam_cols_.push_back(text_bytes[i] > 0 ? type.add_string(n, text_bytes[i]) : type.add_float64(n));
  }
  start_time = type.add_float64("start_time");
  end_time = type.add_float64("end_time");
  last_step = type.add_int64("last_step");
  best_metric = type.add_float64("best_metric");
  last_metric = type.add_float64("last_metric");
  device_seconds = type.add_float64("device_seconds");
  reason = type.add_string("reason", kH5ReasonBytes);
  params_total = type.add_int64("params_total");
  params_trainable = type.add_int64("params_trainable");
  type.set_optional(params_total);  // schema 2: version 1 files have neither column
  type.set_optional(params_trainable);
}

std::vector<size_t> TrialColumns::text_bytes_for(const Space& space) {
  std::vector<size_t> widths;
  for (const auto& d : space.domains()) {
    size_t w = 0;
    if (d.is_categorical() && has_text_values(d)) {
      w = kH5HParamTextBytes;
      for (const auto& v : d.values) w = std::max(w, v.to_string().size() + 1);
    }
    widths.push_back(w);
  }
  return widths;
}

void TrialColumns::check_names(const Space& space) {
  static const char* const fixed[] = {"id", "parent", "group", "status", "start_time", "end_time",
                                      "last_step", "best_metric", "last_metric", "device_seconds",
                                      "reason", "params_total", "params_trainable"};
  for (const auto& d : space.domains())
    for (const char* f : fixed)
      if (d.name == f)
        throw ConfigError("space." + d.name, "is also the name of a fixed column of /trials in the result file",
                          "rename the hyperparameter");
}

Row TrialColumns::encode(const TrialRecord& t) const {
  for (const auto& [n, v] : t.hparams.entries())
    if (!space_.find(n))
      throw InfraError("trial " + std::to_string(t.id) + " has hyperparameter '" + n +
                       "' that is not in the search space");
  Row r(type);
  r.set_int64(id, t.id);
  r.set_int64(parent, t.parent);
  r.set_int32(group, t.group);
  r.set_string(status, trial_status_name(t.status));
  for (size_t i = 0; i < space_.size(); ++i) {
    const Domain& d = space_.domains()[i];
    const ParamValue* v = t.hparams.find(d.name);
    if (hparam_text_[i]) {
      r.set_string(hparam_cols_[i], v ? v->to_string() : "");
    } else {
      if (v && v->is_string())
        throw InfraError("trial " + std::to_string(t.id) + ": hyperparameter " + d.name + " = '" +
                         v->as_string() + "' is text but its domain " + d.describe() + " is numeric");
      r.set_float64(hparam_cols_[i], v ? v->as_double() : kNaN);
    }
  }
  r.set_float64(start_time, t.start_time);
  r.set_float64(end_time, t.end_time);
  r.set_int64(last_step, t.last_step);
  r.set_float64(best_metric, t.best_metric);
  r.set_float64(last_metric, t.last_metric);
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
  for (size_t i = 0; i < space_.size(); ++i) {
    const Domain& d = space_.domains()[i];
    if (hparam_text_[i]) {
      const std::string s = r.string(hparam_cols_[i]);
      if (!s.empty()) t.hparams.set(d.name, text_value(d, s));
    } else {
      const double x = r.float64(hparam_cols_[i]);
      if (!std::isnan(x)) t.hparams.set(d.name, numeric_value(d, x));
    }
  }
  t.start_time = r.float64(start_time);
  t.end_time = r.float64(end_time);
  t.last_step = r.int64(last_step);
  t.best_metric = r.float64(best_metric);
  t.last_metric = r.float64(last_metric);
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
  lr = type.add_float64("lr");
  tokens = type.add_int64("tokens");
  throughput = type.add_float64("throughput");
  loss_scale = type.add_float64("loss_scale");
}

Row MetricColumns::encode(const MetricRecord& m) const {
  Row r(type);
  r.set_int64(trial, m.trial);
  r.set_int64(step, m.step);
  r.set_float64(time, m.time);
  r.set_float64(train_loss, m.train_loss);
  r.set_float64(eval_loss, m.eval_loss);
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

TransferColumns::TransferColumns() {
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
  return t;
}

// ---- /groups ----

GroupColumns::GroupColumns() {
  group = type.add_int32("group");
  ranks = type.add_string("ranks", kH5GroupTextBytes);
  hosts = type.add_string("hosts", kH5GroupTextBytes);
  devices = type.add_string("devices", kH5GroupTextBytes);
}

Row GroupColumns::encode(const GroupRecord& g) const {
  Row r(type);
  r.set_int32(group, g.group);
  r.set_string(ranks, g.ranks);
  r.set_string(hosts, g.hosts);
  r.set_string(devices, g.devices);
  return r;
}

GroupRecord GroupColumns::decode(const Row& r) const {
  GroupRecord g;
  g.group = r.int32(group);
  g.ranks = r.string(ranks);
  g.hosts = r.string(hosts);
  g.devices = r.string(devices);
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
  return s;
}

}  // namespace mpitune::h5
