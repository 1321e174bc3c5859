#include "mpitune/store/result_store.hpp"

#include "mpitune/core/error.hpp"

namespace mpitune {

const char* trial_status_name(TrialStatus s) {
  switch (s) {
    case TrialStatus::Pending: return "pending";
    case TrialStatus::Running: return "running";
    case TrialStatus::Paused: return "paused";
    case TrialStatus::Completed: return "completed";
    case TrialStatus::Stopped: return "stopped";
    case TrialStatus::Failed: return "failed";
    case TrialStatus::EarlyStopped: return "early_stopped";
  }
  return "?";
}

TrialStatus parse_trial_status(const std::string& s) {
  for (TrialStatus t : {TrialStatus::Pending, TrialStatus::Running, TrialStatus::Paused,
                        TrialStatus::Completed, TrialStatus::Stopped, TrialStatus::Failed, TrialStatus::EarlyStopped})
    if (s == trial_status_name(t)) return t;
  throw InfraError("unknown trial status '" + s + "'");
}

void MemoryStore::begin(const ExperimentInfo& info, const std::vector<GroupRecord>& groups) {
  data_ = ExperimentData{};
  data_.info = info;
  data_.groups = groups;
}

void MemoryStore::upsert_trial(const TrialRecord& t) {
  if (trial_index_.size() != data_.trials.size()) {  // rows given to the constructor
    trial_index_.clear();
    for (size_t i = 0; i < data_.trials.size(); ++i) trial_index_.emplace(data_.trials[i].id, i);
  }
  const auto [it, added] = trial_index_.try_emplace(t.id, data_.trials.size());
  if (added) data_.trials.push_back(t);
  else data_.trials[it->second] = t;
}

void MemoryStore::append_metric(const MetricRecord& m) { data_.metrics.push_back(m); }
void MemoryStore::append_decision(const DecisionRecord& d) { data_.decisions.push_back(d); }
void MemoryStore::append_transfer(const TransferRecord& t) { data_.transfers.push_back(t); }
void MemoryStore::set_summary(const SummaryRecord& s) { data_.summary = s; }
void MemoryStore::append_final(const FinalRecord& f, const std::vector<FinalDocumentRecord>& documents) {
  data_.finals.push_back(f);
  data_.final_documents.insert(data_.final_documents.end(), documents.begin(), documents.end());
}
void MemoryStore::append_event(const EventRecord& e) { data_.events.push_back(e); }
void MemoryStore::set_segment(const SegmentRecord& s) {
  for (auto& r : data_.segments)
    if (r.index == s.index) {
      r = s;
      return;
    }
  data_.segments.push_back(s);
}

}  // namespace mpitune
