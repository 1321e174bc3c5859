// The cost table's rows (see report_rows.hpp).
#include "mpitune/report/report_rows.hpp"

#include <climits>
#include <cstdlib>

#include "mpitune/report/spread.hpp"

namespace mpitune {
namespace {

std::string canonical_path(const std::string& path) {
  char buf[PATH_MAX];
  // A path that does not resolve (gone, or never a file: hand-built data) compares as written.
  if (::realpath(path.c_str(), buf) == nullptr) return path;
  return buf;
}

// The last `parts` components of `path` ("" components of "a//b" count as written).
std::string trailing_components(const std::string& path, size_t parts) {
  size_t pos = path.size();
  for (size_t k = 0; k < parts; ++k) {
    const size_t slash = pos == 0 ? std::string::npos : path.rfind('/', pos - 1);
    if (slash == std::string::npos) return path;
    pos = slash;
  }
  return path.substr(pos + 1);
}

}  // namespace

bool same_result_file(const ExperimentData& a, const ExperimentData& b) {
  if (&a == &b) return true;
  if (a.path.empty() || b.path.empty()) return false;
  return a.path == b.path || canonical_path(a.path) == canonical_path(b.path);
}

std::vector<std::string> display_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    if (p.empty()) {
      out.push_back("-");
      continue;
    }
    std::string shown = p;
    for (size_t parts = 1;; ++parts) {
      const std::string tail = trailing_components(p, parts);
      bool unique = true;
      for (size_t j = 0; j < paths.size() && unique; ++j)
        if (j != i && paths[j] != p && trailing_components(paths[j], parts) == tail) unique = false;
      if (unique || tail == p) {
        shown = tail;
        break;
      }
    }
    out.push_back(shown);
  }
  return out;
}

ReportRows make_report_rows(const std::vector<ExperimentData>& runs,
                            const std::vector<const ExperimentData*>& references) {
  struct Listed {
    const ExperimentData* run;
    bool is_reference;
  };
  auto matches_any = [](const ExperimentData& d, const auto& others) {
    for (const auto& o : others)
      if (same_result_file(d, *o)) return true;
    return false;
  };
  std::vector<const ExperimentData*> run_ptrs;
  for (const auto& r : runs) run_ptrs.push_back(&r);
  std::vector<const ExperimentData*> refs;
  for (const ExperimentData* r : references)
    if (r) refs.push_back(r);

  // References that are not among the files come first; the others stay where the files list them.
  std::vector<Listed> listed;
  std::vector<const ExperimentData*> seen;
  for (const ExperimentData* r : refs) {
    if (matches_any(*r, run_ptrs) || matches_any(*r, seen)) continue;
    listed.push_back({r, true});
    seen.push_back(r);
  }
  for (const ExperimentData* r : run_ptrs) {
    if (matches_any(*r, seen)) continue;
    listed.push_back({r, matches_any(*r, refs)});
    seen.push_back(r);
  }

  ReportRows out;
  std::vector<std::string> paths;
  for (const auto& l : listed) paths.push_back(l.run->path);
  const std::vector<std::string> shown = display_paths(paths);
  std::vector<double> reference_best, reference_minutes;
  for (size_t i = 0; i < listed.size(); ++i) {
    ReportRow row;
    row.run = listed[i].run;
    row.file = shown[i];
    row.is_reference = listed[i].is_reference;
    row.cost = compute_run_cost(*row.run);
    if (row.is_reference) {
      reference_best.push_back(row.cost.best);
      reference_minutes.push_back(row.cost.device_minutes_to_best);
    }
    out.rows.push_back(row);
  }
  out.have_reference = !reference_best.empty();
  out.reference_best = spread_of(reference_best).median;
  out.reference_device_minutes_to_best = spread_of(reference_minutes).median;
  if (!out.have_reference) return out;
  for (auto& row : out.rows) {
    row.ratio = cost_ratio(row.cost.device_minutes_to_best, out.reference_device_minutes_to_best);
    row.reach = time_to_reach(*row.run, out.reference_best);
  }
  return out;
}

}  // namespace mpitune
