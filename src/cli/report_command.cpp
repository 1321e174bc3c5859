// mpitune report (see report/report_command.hpp).
#include "mpitune/runtime/report_command.hpp"

#include <boost/program_options.hpp>

#include <iostream>

#include "mpitune/core/error.hpp"
#include "mpitune/report/report.hpp"
#include "mpitune/runtime/cli_options.hpp"
#include "mpitune/store/hdf5_store.hpp"

namespace po = boost::program_options;

namespace mpitune {
namespace {

ExperimentData read_result_file(const std::string& path) {
  ExperimentData d = read_hdf5_experiment(path);
  if (d.path.empty()) d.path = path;  // rows are keyed by file
  return d;
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
  po::options_description desc(
      "mpitune report FILE... [--reference FILE...] [--aggregate] [--format md|csv] [--bootstrap N]\n"
      "  One row per result file: best eval loss at full budget and at any step, test loss with its\n"
      "  95% interval, time and device-minutes to the best and in total, cost ratio against the\n"
      "  reference, time and device-minutes until the reference's best was matched; the paired\n"
      "  bootstrap of each test loss against the reference's; then per experiment its best\n"
      "  configuration, test evaluation and forgetting. --aggregate: one row per experiment name\n"
      "  (repeated runs with other seeds), median [25%, 75%] of each figure; the reference runs'\n"
      "  medians are the reference.\n\noptions");
  desc.add_options()("help,h", "this help")
      ("files", po::value<std::vector<std::string>>()->composing(), "result files (.h5)")
      ("reference,r", po::value<std::vector<std::string>>()->multitoken()->composing(),
       "result file(s) the ratios and comparisons are relative to (several only with --aggregate); "
       "a reference also among the files is listed once")
      ("aggregate,a", "one row per experiment name: median and interquartile range over its files")
      ("format,f", po::value<std::string>()->default_value("md"), "md (Markdown) or csv")
      ("bootstrap", po::value<int>()->default_value(kReportBootstrapResamples),
       "resamples of the paired bootstrap of test losses against the reference (fixed seed); 0: no "
       "significance lines");
  po::positional_options_description pos;
  pos.add("files", -1);
  const po::variables_map vm = parse_command_line(args, desc, &pos, "report");
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  ReportOptions options;
  options.format = parse_report_format(vm["format"].as<std::string>(), "--format");
  options.aggregate = vm.count("aggregate") > 0;
  options.bootstrap_resamples = vm["bootstrap"].as<int>();
  if (options.bootstrap_resamples < 0)
    throw ConfigError("--bootstrap", "must be at least 0", "give the number of resamples, e.g. 10000");
  const std::vector<std::string> reference_paths =
      vm.count("reference") ? vm["reference"].as<std::vector<std::string>>() : std::vector<std::string>{};
  if (!vm.count("files") && reference_paths.empty())
    throw ConfigError("report", "no result file given", "mpitune report results/NAME.h5");
  if (reference_paths.size() > 1 && !options.aggregate) {
    std::string given;
    for (const auto& p : reference_paths) given += (given.empty() ? "" : " ") + p;
    throw ConfigError("--reference", std::to_string(reference_paths.size()) + " files given (" + given + ")",
                      "give one, or add --aggregate for repeated runs; the files to report go before --reference");
  }
  std::vector<ExperimentData> runs;
  if (vm.count("files"))
    for (const auto& f : vm["files"].as<std::vector<std::string>>()) runs.push_back(read_result_file(f));
  std::vector<ExperimentData> references;
  for (const auto& f : reference_paths) references.push_back(read_result_file(f));
  std::vector<const ExperimentData*> reference_ptrs;
  for (const auto& r : references) reference_ptrs.push_back(&r);
  std::cout << format_report(runs, reference_ptrs, options);
  return 0;
}

}  // namespace mpitune
