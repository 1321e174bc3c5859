// The experiment report: what `mpitune report` prints for one or more result files.
//
// The workshop's comparison table, filled in from the files rather than by hand: one row per
// result file (report_rows.hpp) with the best eval loss at full budget, the test loss of the
// best configuration with its 95% interval, what finding the best cost in device time, the cost
// ratio against the reference and the quality-aware figures (time and device-minutes until the
// reference's best was matched); the definitions of the columns under it; the paired bootstrap
// of each experiment's test loss against the reference's; then per experiment its best
// configuration, test evaluation, forgetting and trial counts. With `aggregate`, repeated runs
// (files of one experiment name: the same method under different seeds) become one row of
// medians and interquartile ranges, so one lucky seed does not decide the comparison.
//
// Markdown is for people; CSV is for scripts: one header line and one row per file (or per
// aggregated experiment), nothing else.
//
// Pure C++ over ExperimentData (no HDF5), so it is tested with hand-built data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mpitune/report/run_cost.hpp"
#include "mpitune/report/test_comparison.hpp"
#include "mpitune/store/result_store.hpp"

namespace mpitune {

enum class ReportFormat { Markdown, Csv };

// "md" (or "markdown") | "csv"; anything else is a ConfigError for `field`.
ReportFormat parse_report_format(const std::string& text, const std::string& field = "--format");

struct ReportOptions {
  ReportFormat format = ReportFormat::Markdown;
  bool aggregate = false;  // one row per experiment name: median and IQR over its files
  int bootstrap_resamples = kReportBootstrapResamples;  // of the significance lines; 0: none
  uint64_t bootstrap_seed = kReportBootstrapSeed;
};

// The whole report. `references` (none, or one; several only with `aggregate`) are the
// experiments costs are compared with; those that are not among `runs` are listed first.
// Throws ConfigError("--reference") for several references without `aggregate`, and when an
// experiment's metric is not in /metrics.
std::string format_report(const std::vector<ExperimentData>& runs,
                          const std::vector<const ExperimentData*>& references, const ReportOptions& options);

// One reference (may be null), no aggregation, the default bootstrap.
std::string format_report(const std::vector<ExperimentData>& runs, const ExperimentData* reference,
                          ReportFormat fmt);

}  // namespace mpitune
